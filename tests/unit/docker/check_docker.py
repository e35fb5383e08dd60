#!/usr/bin/env python3
"""Checks docker/ without Docker (no daemon runs on our machines).

    check_docker.py files|nginx|compose_schema --repo DIR [--binary build/cardsmith]

files           docker/compose.yaml, docker/Dockerfile, docker/cardsmith.toml, .dockerignore
                and docker/nginx/nginx.conf read and cross-checked: services and images, the
                instances' database and dependencies, upstream names, ports, configuration
                keys, COPY sources, packages; the build stage's cmake command run on just
                what that stage copies. With --binary (when built): the runtime packages
                against the executable's libraries (Release builds), and the instances'
                environment through the server's own configuration parser.
nginx           `nginx -t` on docker/nginx/nginx.conf, upstream hosts and certificate paths
                replaced by local ones (a throwaway self-signed certificate).
compose_schema  `docker-compose config` (Debian's Compose v1, used only as a validator of
                the Compose schema and its variable interpolation).

Exit status 0 when every check passed, 1 when one failed, 77 (CTest's SKIP_RETURN_CODE)
when the tool a group needs is not installed (scripts/deps.sh installs it).
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import unittest
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from docker_parsers import (apt_packages, compose_variables, copy_parts, depends_on,
                            dockerfile_stages, env_name, environment_of, find_all, ignored,
                            interpolate_all, listen_port, nginx_tree, parse_dockerignore,
                            size_bytes)

try:
    import yaml
except ImportError:  # scripts/deps.sh installs python3-yaml
    yaml = None

SKIP = 77
ARGS = argparse.Namespace(repo=".", binary=None)


def repo_path(*parts):
    return os.path.join(ARGS.repo, *parts)


def read(*parts):
    with open(repo_path(*parts), encoding="utf-8") as f:
        return f.read()


# ---------------------------------------------------------------- the repository's files

def env_example():
    """{VARIABLE: value} of docker/env.example, commented-out ones included."""
    out = {}
    for line in read("docker", "env.example").splitlines():
        m = re.match(r"\s*#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def load_compose():
    """(text, as loaded, interpolated with env.example and test values, unset required)."""
    text = read("docker", "compose.yaml")
    raw = yaml.safe_load(text)
    env = env_example()
    # The values an operator must fill in, as a test would.
    env.update(POSTGRES_PASSWORD="0123abcd", CARDSMITH_ADMIN_KEY="test-admin-key-0123456789",
               CARDSMITH_PUBLIC_URL="https://cards.example.com")
    missing = set()
    return text, raw, interpolate_all(raw, env, missing), missing


def dockerignore_patterns():
    return parse_dockerignore(read(".dockerignore"))


def tracked_files(path):
    """The files under a repository path (git's list, or the folder's when not a clone)."""
    try:
        out = subprocess.run(["git", "-C", ARGS.repo, "ls-files", "--", path], check=True,
                             capture_output=True, text=True).stdout.split()
        if out:
            return out
    except (OSError, subprocess.CalledProcessError):
        pass
    full = repo_path(path)
    if os.path.isfile(full):
        return [path]
    return [os.path.relpath(os.path.join(d, f), ARGS.repo)
            for d, _, files in os.walk(full) for f in files]


def documented_keys():
    """Config keys named in the first column of docs/configuration.md's table."""
    keys = set()
    for line in read("docs", "configuration.md").splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            keys.update(re.findall(r"`([a-z_]+\.[a-z_0-9]+)`", first))
    return keys


def built_like_the_image(binary):
    """Whether the binary's CMake build is Release without sanitizers (its libraries then
    are the image's: a Debug or sanitizer build links more)."""
    try:
        with open(os.path.join(os.path.dirname(binary), "CMakeCache.txt")) as f:
            cache = dict(re.findall(r"^(\w+):\w+=(.*)$", f.read(), flags=re.M))
    except OSError:
        return False
    return (cache.get("CMAKE_BUILD_TYPE") == "Release"
            and cache.get("CARDSMITH_SANITIZE", "OFF") == "OFF"
            and "-fsanitize" not in cache.get("CMAKE_CXX_FLAGS", ""))


def image_config():
    with open(repo_path("docker", "cardsmith.toml"), "rb") as f:
        return tomllib.load(f)


# ================================================================= the checks

class ComposeFile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.text, cls.raw, cls.compose, cls.missing = load_compose()
        cls.services = cls.compose["services"]
        cls.compose_dir = repo_path("docker")
        cls.dockerfile = os.path.realpath(repo_path("docker", "Dockerfile"))

        def built_from_dockerfile(s):
            build = s.get("build")
            if not isinstance(build, dict):
                return False
            context = os.path.join(cls.compose_dir, build.get("context", "."))
            return os.path.realpath(os.path.join(context, build.get("dockerfile", "Dockerfile"))) \
                == cls.dockerfile

        cls.cardsmith = {n: s for n, s in cls.services.items() if built_from_dockerfile(s)}
        cls.apps = {n: s for n, s in cls.cardsmith.items()
                    if (s.get("command") or ["serve"])[0] == "serve"}
        cls.migrate = {n: s for n, s in cls.cardsmith.items()
                       if (s.get("command") or [""])[0] == "migrate"}
        cls.db = {n: s for n, s in cls.services.items()
                  if str(s.get("image", "")).startswith("postgres:")}
        cls.lb = {n: s for n, s in cls.services.items()
                  if any("nginx/nginx.conf" in str(v) for v in s.get("volumes", []))}

    def test_every_service_has_an_image_or_a_build_that_exists(self):
        for name, s in self.services.items():
            with self.subTest(service=name):
                self.assertTrue(s.get("image") or s.get("build"), "neither image nor build")
                build = s.get("build")
                if build:
                    context = os.path.join(self.compose_dir, build["context"])
                    self.assertTrue(os.path.isdir(context), f"build context {context}")
                    self.assertTrue(os.path.isfile(os.path.join(context, build["dockerfile"])))
                image = str(s.get("image", ""))
                self.assertNotIn(":latest", image, "pin a tag")
                if not build:
                    self.assertRegex(image, r"^[a-z0-9./-]+:[A-Za-z0-9._-]+$", "image:tag")

    def test_the_expected_services(self):
        self.assertGreaterEqual(len(self.apps), 2, "two Cardsmith instances")
        self.assertEqual(len(self.migrate), 1, "one migrate service")
        self.assertEqual(len(self.db), 1, "one PostgreSQL")
        self.assertEqual(list(self.db.values())[0]["image"].split(":")[1].split("-")[0], "15")
        self.assertEqual(len(self.lb), 1, "one nginx mounting docker/nginx/nginx.conf")
        images = {s.get("image") for s in self.cardsmith.values()}
        self.assertEqual(len(images), 1, f"one image name for the Cardsmith services: {images}")

    def test_variables_are_in_env_example(self):
        names, required = compose_variables(self.text)
        example = env_example()
        for name in names:
            with self.subTest(variable=name):
                self.assertIn(name, example, "docker/env.example does not mention it")
        self.assertIn("POSTGRES_PASSWORD", required, "no default password")
        self.assertFalse(self.missing, "required variables unset after filling the example")

    def test_database_has_a_volume_and_a_health_check(self):
        (name, db), = self.db.items()
        self.assertTrue(any(str(v).endswith(":/var/lib/postgresql/data") for v in db["volumes"]))
        volume = db["volumes"][0].split(":")[0]
        self.assertIn(volume, self.compose.get("volumes") or {}, "a named volume")
        test = db["healthcheck"]["test"]
        self.assertIn("pg_isready", " ".join(test))
        # The entrypoint's first-start server listens on a socket only: a TCP check does not
        # call the database ready before its real start.
        self.assertIn("-h 127.0.0.1", " ".join(test))

    def storage_url(self, service):
        return urllib.parse.urlsplit(environment_of(service)["CARDSMITH_STORAGE_URL"])

    def test_instances_and_migrate_use_the_database(self):
        (db_name, db), = self.db.items()
        db_env = environment_of(db)
        for name, s in {**self.apps, **self.migrate}.items():
            with self.subTest(service=name):
                url = self.storage_url(s)
                self.assertEqual(url.scheme, "postgresql")
                self.assertEqual(url.hostname, db_name)
                self.assertEqual(url.port, 5432)
                self.assertEqual(url.username, db_env["POSTGRES_USER"])
                self.assertEqual(url.password, db_env["POSTGRES_PASSWORD"])
                self.assertEqual(url.path.lstrip("/"), db_env["POSTGRES_DB"])
                self.assertEqual(depends_on(s).get(db_name), "service_healthy")

    def test_migrations_run_once_before_the_instances(self):
        (migrate_name, migrate), = self.migrate.items()
        self.assertEqual(str(migrate.get("restart", "no")), "no")
        self.assertIn("--config", migrate["command"])
        for name, s in self.apps.items():
            with self.subTest(service=name):
                self.assertEqual(depends_on(s).get(migrate_name), "service_completed_successfully")
                self.assertEqual(s["command"][s["command"].index("--config") + 1],
                                 migrate["command"][migrate["command"].index("--config") + 1])

    def test_instances_share_what_must_be_shared(self):
        envs = [environment_of(s) for s in self.apps.values()]
        for key in ("CARDSMITH_STORAGE_URL", "CARDSMITH_ADMIN_KEY",
                    "CARDSMITH_SERVER_SECRET_KEY_FILE", "CARDSMITH_SERVER_PUBLIC_URL"):
            with self.subTest(key=key):
                self.assertTrue(all(e.get(key) for e in envs), "set on every instance")
                self.assertEqual(len({e[key] for e in envs}), 1, "the same on every instance")
        for env in envs:
            self.assertTrue(env["CARDSMITH_SERVER_PUBLIC_URL"].startswith("https://"))
            self.assertEqual(env.get("CARDSMITH_ENROLLMENT_TRUST_FORWARDED_FOR"), "true")

    def test_secret_files_are_mounted_where_the_environment_says(self):
        defined = self.compose.get("secrets") or {}
        for name, s in self.services.items():
            mounted = {x if isinstance(x, str) else x["source"] for x in s.get("secrets", [])}
            self.assertLessEqual(mounted, set(defined), f"{name}: undefined secrets")
            for key, value in environment_of(s).items():
                if value.startswith("/run/secrets/"):
                    with self.subTest(service=name, key=key):
                        self.assertIn(value[len("/run/secrets/"):], mounted)
        for name, secret in defined.items():
            with self.subTest(secret=name):
                path = os.path.normpath(os.path.join(self.compose_dir, secret["file"]))
                self.assertTrue(path.startswith(repo_path("docker", "secrets")),
                                "secret files live in docker/secrets (git-ignored)")
                self.assertIn(os.path.basename(path), read("docker", "secrets", "README.md"))

    def test_containers_are_confined_and_logs_rotate(self):
        for name, s in self.cardsmith.items():
            with self.subTest(service=name):
                self.assertIs(s.get("read_only"), True)
                self.assertIn("ALL", s.get("cap_drop", []))
                self.assertIn("no-new-privileges:true", s.get("security_opt", []))
        for name, s in self.services.items():
            with self.subTest(service=name):
                self.assertIn("max-size", (s.get("logging") or {}).get("options", {}))

    def test_environment_names_are_configuration_keys(self):
        # The server ignores CARDSMITH_* variables it does not know: a typo would be silent.
        known = {env_name(k) for k in documented_keys()}
        self.assertIn("CARDSMITH_STORAGE_URL", known)
        for name, s in self.cardsmith.items():
            for key in environment_of(s):
                with self.subTest(service=name, variable=key):
                    self.assertTrue(key in known, f"{key} is not a key of docs/configuration.md")

    def test_ports_agree(self):
        final = dockerfile_stages(read("docker", "Dockerfile"))[-1]
        exposed = {int(rest.split("/")[0]) for instr, rest in final["instructions"]
                   if instr == "EXPOSE"}
        config_port = listen_port(image_config()["server"]["listen"])
        self.assertEqual(exposed, {config_port}, "EXPOSE and the image config's server.listen")
        for name, s in self.apps.items():
            with self.subTest(service=name):
                env = environment_of(s)
                port = listen_port(env.get("CARDSMITH_SERVER_LISTEN", f":{config_port}"))
                self.assertEqual(port, config_port)
                self.assertEqual({int(p) for p in s.get("expose", [port])}, {port})
                self.assertNotIn("ports", s, "instances are reached through the proxy only")
                self.assertTrue(env.get("CARDSMITH_SERVER_LISTEN", "0.0.0.0").startswith("0.0.0.0"),
                                "listen on every interface of the container")

    def test_proxy_matches_the_instances(self):
        (lb_name, lb), = self.lb.items()
        conf = nginx_tree(read("docker", "nginx", "nginx.conf"))
        upstreams = {u[1][0]: u for u in find_all(conf, "upstream")}
        self.assertTrue(upstreams)
        app_port = listen_port(image_config()["server"]["listen"])
        hosts = set()
        for u in upstreams.values():
            for server in (d for d in u[2] if d[0] == "server"):
                host, _, port = server[1][0].partition(":")
                hosts.add(host)
                self.assertEqual(int(port), app_port, server[1][0])
                self.assertTrue(any(a.startswith("max_fails=") for a in server[1]),
                                f"{host}: passive health check (max_fails)")
            self.assertTrue(any(d[0] == "keepalive" for d in u[2]), "keep-alive to upstreams")
        self.assertEqual(hosts, set(self.apps), "nginx upstream servers = the app services")
        for proxy_pass in find_all(conf, "proxy_pass"):
            self.assertIn(urllib.parse.urlsplit(proxy_pass[1][0]).hostname, upstreams)
        for app in self.apps:
            self.assertEqual(depends_on(lb).get(app), "service_healthy", app)

        listens = {int(l[1][0].rsplit(":", 1)[-1]) for l in find_all(conf, "listen")}
        published = {int(str(p).rsplit(":", 1)[-1].split("/")[0]) for p in lb["ports"]}
        self.assertEqual(listens, published, "published ports = nginx listen ports")
        self.assertEqual(listens, {80, 443})

        mounts = {}
        for v in lb["volumes"]:
            source, target = str(v).split(":")[:2]
            mounts[target] = os.path.normpath(os.path.join(self.compose_dir, source))
            self.assertTrue(os.path.exists(mounts[target]), f"{source} exists in the repository")
        for directive in ("ssl_certificate", "ssl_certificate_key"):
            (path,) = [d[1][0] for d in find_all(conf, directive)]
            with self.subTest(directive=directive):
                self.assertTrue(any(path.startswith(t.rstrip("/") + "/") for t in mounts),
                                f"{path} is inside a mounted folder")

    def test_proxy_settings(self):
        conf = nginx_tree(read("docker", "nginx", "nginx.conf"))
        names = lambda n: [d[1] for d in find_all(conf, n)]
        (body,) = names("client_max_body_size")
        self.assertGreaterEqual(size_bytes(body[0]), 4 * 1024 * 1024, "image uploads of 4 MiB")
        self.assertIn(["1.1"], names("proxy_http_version"))
        headers = {h[0]: h[1] if len(h) > 1 else "" for h in names("proxy_set_header")}
        self.assertEqual(headers.get("Connection"), "", "keep-alive: no Connection: close")
        self.assertEqual(headers.get("X-Forwarded-For"), "$proxy_add_x_forwarded_for")
        self.assertEqual(headers.get("X-Forwarded-Proto"), "$scheme")
        self.assertEqual(headers.get("Host"), "$host")
        plain = [s for s in find_all(conf, "server") if s[2] is not None and
                 any(d[0] == "listen" and d[1][0].endswith("80") for d in s[2])]
        self.assertEqual(len(plain), 1)
        redirects = [d[1] for d in find_all(plain[0][2], "return")]
        self.assertTrue(redirects and all(r[0] in ("301", "308") and r[1].startswith("https://")
                                          for r in redirects), "HTTP redirects to HTTPS")


class Dockerfile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stages = dockerfile_stages(read("docker", "Dockerfile"))
        cls.final = cls.stages[-1]

    def instructions(self, name, stage=None):
        return [rest for instr, rest in (stage or self.final)["instructions"] if instr == name]

    def test_stages_on_debian_12(self):
        self.assertGreaterEqual(len(self.stages), 2, "multi-stage")
        for stage in self.stages:
            with self.subTest(stage=stage["name"]):
                self.assertRegex(stage["image"], r"^debian:(12|bookworm)(-slim)?$")
                self.assertTrue(stage["name"], "stages are named")
        names = [s["name"] for s in self.stages]
        self.assertEqual(len(names), len(set(names)))

    def test_runs_as_a_user_that_is_not_root(self):
        users = self.instructions("USER")
        self.assertTrue(users, "USER in the final stage")
        self.assertNotIn(users[-1].split(":")[0], ("root", "0"))

    def test_health_check_asks_the_server(self):
        checks = self.instructions("HEALTHCHECK")
        self.assertEqual(len(checks), 1, "one HEALTHCHECK in the final stage")
        check = checks[0]
        self.assertNotEqual(check.strip().upper(), "NONE")
        self.assertRegex(check, r"/(readyz|healthz)\b")
        port = listen_port(image_config()["server"]["listen"])
        self.assertIn(f"0.0.0.0:{port}", check, "the default port is the config's")

    def test_copy_from_names_an_earlier_stage(self):
        for i, stage in enumerate(self.stages):
            for rest in self.instructions("COPY", stage):
                flags, _, _ = copy_parts(rest)
                if "from" in flags:
                    with self.subTest(copy=rest):
                        earlier = [s["name"] for s in self.stages[:i]]
                        self.assertTrue(flags["from"] in earlier or
                                        (flags["from"].isdigit() and int(flags["from"]) < i))

    def test_copied_files_exist_and_are_in_the_build_context(self):
        patterns = dockerignore_patterns()
        copied = 0
        for stage in self.stages:
            for instr, rest in stage["instructions"]:
                if instr not in ("COPY", "ADD"):
                    continue
                flags, sources, _ = copy_parts(rest)
                if "from" in flags:
                    continue
                for source in sources:
                    with self.subTest(source=source):
                        matches = glob.glob(repo_path(source))
                        self.assertTrue(matches, f"{source} is not in the repository")
                        for m in matches:
                            rel = os.path.relpath(m, ARGS.repo)
                            self.assertFalse(ignored(rel, patterns), f".dockerignore drops {rel}")
                            dropped = [f for f in tracked_files(rel) if ignored(f, patterns)]
                            self.assertEqual(dropped, [], f".dockerignore drops files of {rel}")
                            copied += 1
        self.assertGreater(copied, 0)

    def test_build_context_leaves_out_local_state(self):
        patterns = dockerignore_patterns()
        for path in (".git", "build", "build/asan-ubsan", "var/cardsmith.db", "certs/dev/pass.key",
                     "tests/browser/node_modules/x.js", "docker/secrets/pass.key", "docker/.env"):
            with self.subTest(path=path):
                self.assertTrue(ignored(path, patterns))

    def test_cmake_options_exist(self):
        options = set(re.findall(r"option\((\w+)", read("CMakeLists.txt")))
        used = set()
        for stage in self.stages:
            for rest in self.instructions("RUN", stage):
                used.update(re.findall(r"-D(CARDSMITH_\w+)=", rest))
        self.assertTrue(used)
        self.assertLessEqual(used, options, "CMake options that CMakeLists.txt does not define")

    def test_build_stage_configures_from_what_it_copies(self):
        # The build stage's own cmake command, on a folder holding only what it COPYs: the
        # options are all used, and every source of the target is there.
        build = self.stages[0]
        run = " ".join(self.instructions("RUN", build))
        configure = re.search(r"cmake -S \. -B build[^&;]*", run).group(0).split()
        target = re.search(r"cmake --build build --target (\S+)", run).group(1)
        workdir = self.instructions("WORKDIR", build)[-1]
        with tempfile.TemporaryDirectory() as tmp:
            for rest in self.instructions("COPY", build):
                flags, sources, dest = copy_parts(rest)
                self.assertNotIn("from", flags)
                dest = os.path.join(tmp, os.path.relpath(os.path.join(workdir, dest), workdir))
                for source in sources:
                    src = repo_path(source)
                    if os.path.isdir(src):
                        shutil.copytree(src, dest, dirs_exist_ok=True)
                    else:
                        os.makedirs(dest, exist_ok=True)
                        shutil.copy(src, dest)
            result = subprocess.run(configure, cwd=tmp, capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stderr[-3000:])
            self.assertNotIn("Manually-specified variables were not used", result.stderr)
            commands = subprocess.run(["ninja", "-C", "build", "-t", "commands", target],
                                      cwd=tmp, check=True, capture_output=True, text=True)
            sources = re.findall(r" -c (\S+)", commands.stdout)
            self.assertTrue(sources, f"no compile commands for {target}")
            build_dir = os.path.join(tmp, "build")
            missing = [f for f in sources if not f.startswith(build_dir) and not os.path.exists(f)]
            self.assertEqual(missing, [], "sources the build stage does not copy")

    def test_build_stage_has_the_libraries_of_deps_sh(self):
        deps = re.search(r"packages=\(([^)]*)\)", read("scripts", "deps.sh")).group(1).split()
        # libclang-rt (libFuzzer) only serves the fuzz targets, which the image does not build.
        tools_only = {p for p in deps if p.startswith("libclang-rt-")}
        needed = ({p for p in deps if p.endswith("-dev")} - tools_only) | {
            "cmake", "ninja-build", "pkg-config"}
        build = set(apt_packages(self.stages[0]))
        self.assertLessEqual(needed, build, "in scripts/deps.sh but not in the build stage")

    def test_config_and_paths_agree(self):
        copies = {}
        for rest in self.instructions("COPY"):
            flags, sources, dest = copy_parts(rest)
            for s in sources:
                copies[s.rstrip("/")] = dest.rstrip("/")
        cmd = re.findall(r'"([^"]*)"', self.instructions("CMD")[-1])
        self.assertEqual(cmd[cmd.index("--config") + 1], copies["docker/cardsmith.toml"])
        config = image_config()
        self.assertEqual(config["templates"]["dir"], copies["templates"])
        (volume,) = re.findall(r'"([^"]+)"', self.instructions("VOLUME")[0])
        self.assertIn(self.instructions("WORKDIR")[-1], (volume,))
        self.assertTrue(config["storage"]["url"].startswith(f"sqlite:{volume}/"))
        self.assertTrue(config["server"]["secret_key_file"].startswith(f"{volume}/"))
        for key in config:
            for name in config[key]:
                with self.subTest(key=f"{key}.{name}"):
                    self.assertIn(f"{key}.{name}", documented_keys())

    def test_runtime_packages_cover_the_executable(self):
        binary = ARGS.binary
        if not binary or not os.path.exists(binary):
            self.skipTest("build/cardsmith is not built")
        if not built_like_the_image(binary):
            self.skipTest("not a Release build without sanitizers, as the image's is")
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", subprocess.run(
            ["readelf", "-d", binary], check=True, capture_output=True, text=True).stdout)
        runtime = set(apt_packages(self.final))
        # In every debian:bookworm-slim image (apt itself links them).
        base = {"libc6", "libgcc-s1", "zlib1g"}
        for soname in needed:
            with self.subTest(library=soname):
                owners = subprocess.run(["dpkg-query", "-S", f"*/{soname}"], capture_output=True,
                                        text=True).stdout
                packages = {line.split(":")[0] for line in owners.splitlines()}
                self.assertTrue(packages, f"no Debian package has {soname}")
                self.assertTrue(packages & (runtime | base),
                                f"{soname} comes from {sorted(packages)}: not installed at runtime")

    def test_compose_environment_passes_the_servers_parser(self):
        binary = ARGS.binary
        if not binary or not os.path.exists(binary):
            self.skipTest("build/cardsmith is not built")
        _, _, compose, _ = load_compose()
        with tempfile.TemporaryDirectory() as tmp:
            for name, s in compose["services"].items():
                if not str(s.get("image", "")).startswith("cardsmith:"):
                    continue
                env = {k: v for k, v in os.environ.items() if not k.startswith("CARDSMITH_")}
                env.update(environment_of(s))
                # The parser checks every value's type and range; the database is a local one.
                env["CARDSMITH_STORAGE_URL"] = f"sqlite:{tmp}/{name}.db"
                result = subprocess.run([binary, "migrate", "--config",
                                         repo_path("docker", "cardsmith.toml")],
                                        cwd=tmp, env=env, capture_output=True, text=True)
                with self.subTest(service=name):
                    self.assertEqual(result.returncode, 0, result.stderr)


# ---------------------------------------------------------------- external tools

def nginx_test():
    # /usr/sbin is not on every user's PATH.
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if not nginx:
        print("SKIP: nginx is not installed (scripts/deps.sh installs it)")
        return SKIP
    _, _, compose, _ = load_compose()
    apps = [n for n, s in compose["services"].items()
            if str(s.get("image", "")).startswith("cardsmith:")]
    text = read("docker", "nginx", "nginx.conf")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-keyout", f"{tmp}/privkey.pem",
                        "-out", f"{tmp}/fullchain.pem"], check=True, capture_output=True)
        # Compose's DNS names do not resolve here, nor is there an nginx user or /etc/nginx/certs.
        for app in apps:
            text = re.sub(rf"(\bserver\s+){re.escape(app)}:", r"\g<1>127.0.0.1:", text)
        text = text.replace("/etc/nginx/certs/", f"{tmp}/")
        text = re.sub(r"^user\s+\S+;", "user root;", text, flags=re.M)
        text = re.sub(r"^pid\s+\S+;", f"pid {tmp}/nginx.pid;", text, flags=re.M)
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(text)
        result = subprocess.run([nginx, "-t", "-p", tmp, "-c", conf], capture_output=True,
                                text=True)
        print(result.stderr.strip())
        if result.returncode != 0 or "[warn]" in result.stderr or "[emerg]" in result.stderr:
            print("FAIL: nginx -t")
            return 1
    print("nginx -t: 1 passed, 0 failed")
    return 0


def compose_schema_test():
    tool = shutil.which("docker-compose")
    if not tool:
        print("SKIP: docker-compose is not installed (scripts/deps.sh installs it)")
        return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "env")
        open(empty, "w").close()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CARDSMITH_", "POSTGRES_"))}
        env.update(POSTGRES_PASSWORD="0123abcd", CARDSMITH_ADMIN_KEY="test-admin-key-0123456789",
                   CARDSMITH_PUBLIC_URL="https://cards.example.com")
        base = [tool, "--env-file", empty, "-f", repo_path("docker", "compose.yaml")]
        ok = subprocess.run(base + ["config", "-q"], env=env, capture_output=True, text=True)
        print(ok.stderr.strip())
        # Without the operator's values it must refuse, naming the variable.
        del env["POSTGRES_PASSWORD"]
        refused = subprocess.run(base + ["config", "-q"], env=env, capture_output=True, text=True)
    failed = 0
    if ok.returncode != 0:
        print("FAIL: docker-compose config")
        failed += 1
    if refused.returncode == 0 or "POSTGRES_PASSWORD" not in refused.stderr:
        print("FAIL: docker-compose accepts the file without POSTGRES_PASSWORD")
        failed += 1
    print(f"docker-compose config: {2 - failed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("group", choices=["files", "nginx", "compose_schema"])
    parser.add_argument("--repo", required=True)
    parser.add_argument("--binary")
    args = parser.parse_args()
    ARGS.repo = os.path.abspath(args.repo)
    ARGS.binary = args.binary
    if args.group == "nginx":
        return nginx_test()
    if args.group == "compose_schema":
        return compose_schema_test()
    if yaml is None:
        print("FAIL: PyYAML is missing (python3-yaml, scripts/deps.sh)")
        return 1
    suite = unittest.TestSuite()
    for case in (ComposeFile, Dockerfile):
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(case))
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
