"""Parsers for tests/unit/docker/check_docker.py: Compose variable interpolation, the
Dockerfile's stages and instructions, .dockerignore patterns and nginx.conf. Only what the
checks need, with Docker's and nginx's rules where they matter; pure functions of text."""

import json
import os
import re


# ---------------------------------------------------------------- Compose

def interpolate(value, env, missing):
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$."""
    if not isinstance(value, str):
        return value

    def sub(m):
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group("name") or m.group("bare"), m.group("op"), m.group("arg") or ""
        have = name in env and (env[name] != "" or op in (None, "-", "?"))
        if op in (":-", "-"):
            return env[name] if have else arg
        if op in (":?", "?") and not have:
            missing.add(name)
            return ""
        return env.get(name, "")

    pattern = r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?)(?P<arg>[^}]*))?\}" \
              r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
    return re.sub(pattern, sub, value)


def interpolate_all(node, env, missing):
    """interpolate() over a loaded YAML tree."""
    if isinstance(node, dict):
        return {k: interpolate_all(v, env, missing) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate_all(v, env, missing) for v in node]
    return interpolate(node, env, missing)


def compose_variables(text):
    """Every variable compose.yaml reads, and those it requires (no default)."""
    names, required = set(), set()
    for m in re.finditer(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-|-|:\?|\?)?", text):
        names.add(m.group(1))
        if m.group(2) in (None, ":?", "?"):
            required.add(m.group(1))
    return names, required


def environment_of(service):
    """A service's environment as a dict of strings (mapping or list form)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def depends_on(service):
    """{service: condition} of a service's depends_on (list or mapping form)."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {d: "service_started" for d in deps}
    return {d: (c or {}).get("condition", "service_started") for d, c in deps.items()}


def listen_port(listen):
    """The port of an address:port (server.listen)."""
    return int(listen.rsplit(":", 1)[1])


def env_name(key):
    """The variable overriding a config key: server.listen -> CARDSMITH_SERVER_LISTEN."""
    return "CARDSMITH_" + key.replace(".", "_").upper()

# ---------------------------------------------------------------- Dockerfile

def dockerfile_instructions(text):
    """(instruction, arguments) pairs: continuations joined, comments dropped."""
    out, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and current):
            continue
        if not stripped:
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def dockerfile_stages(text):
    """[{name, image, instructions}] in order."""
    stages = []
    for instr, rest in dockerfile_instructions(text):
        if instr == "FROM":
            parts = [p for p in rest.split() if not p.startswith("--")]
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append({"name": name, "image": parts[0], "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((instr, rest))
    return stages


def copy_parts(rest):
    """(flags, sources, destination) of a COPY/ADD."""
    flags = {}
    words = rest.split()
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        flags[key] = value
    body = " ".join(words)
    if body.startswith("["):
        words = json.loads(body)
    return flags, words[:-1], words[-1]


def apt_packages(stage):
    """The packages a stage's RUN lines `apt-get install`."""
    packages = []
    for instr, rest in stage["instructions"]:
        if instr != "RUN":
            continue
        for m in re.finditer(r"apt-get install((?:\s+[^&;|]+)+)", rest):
            packages += [w for w in m.group(1).split() if not w.startswith("-")]
    return packages

# ---------------------------------------------------------------- .dockerignore

def parse_dockerignore(text):
    """.dockerignore as [(regex, negated)], Docker's pattern syntax (`**`, `*`, `?`, `!`)."""
    patterns = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip("/"))
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                regex += ".*"
                i += 2
            elif pattern[i] == "*":
                regex += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                regex += "[^/]"
                i += 1
            else:
                regex += re.escape(pattern[i])
                i += 1
        patterns.append((re.compile(regex + r"\Z"), negate))
    return patterns


def ignored(path, patterns):
    """Whether the build context leaves out `path` (relative): Docker's rules, the path or a
    parent folder matched by the last matching pattern, `!` taking it back."""
    parts = path.strip("/").split("/")
    for n in range(1, len(parts) + 1):
        prefix = "/".join(parts[:n])
        verdict = False
        for regex, negate in patterns:
            if regex.match(prefix):
                verdict = not negate
        if verdict:
            return True
    return False

# ---------------------------------------------------------------- nginx

def nginx_tree(text):
    """nginx.conf as nested [name, args, children] (children None for simple directives)."""
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|#[^\n]*|[{};]|[^\s{};]+', text)
    root, stack, words = [], [], []
    current = root
    for tok in tokens:
        if tok.startswith("#"):
            continue
        if tok == ";":
            current.append([words[0], words[1:], None])
            words = []
        elif tok == "{":
            block = [words[0], words[1:], []]
            current.append(block)
            stack.append(current)
            current, words = block[2], []
        elif tok == "}":
            current = stack.pop()
        else:
            words.append(tok.strip("\"'") if tok[0] in "\"'" else tok)
    return root


def find_all(tree, name):
    """Every directive or block called `name`, at any depth."""
    for node in tree:
        if node[0] == name:
            yield node
        if node[2]:
            yield from find_all(node[2], name)


def size_bytes(text):
    """An nginx size (4m, 128k) in bytes."""
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", text)
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[m.group(2).lower()]
