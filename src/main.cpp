// cardsmith: parses the command line and hands it to the subcommand (src/cli).
#include <string>
#include <vector>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    return cardsmith::cli::run(args);
}
