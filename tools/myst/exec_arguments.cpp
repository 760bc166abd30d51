#include "tools/myst/exec_arguments.h"

#include <cstring>

namespace myst::tools {

std::vector<std::string> take_program_arguments(int& argc, char** argv,
                                                const std::set<std::string>& value_options) {
    std::vector<std::string> program_arguments;
    if (argc < 2 ||
        (std::strcmp(argv[1], "exec-linux") != 0 && std::strcmp(argv[1], "exec-sgx") != 0))
        return program_arguments;
    int positionals = 0;
    for (int i = 2; i < argc; ++i) {
        std::string token = argv[i];
        if (token == "--") {
            continue;
        }
        if (!token.empty() && token[0] == '-' && positionals < 2) {
            if (value_options.contains(token))
                ++i;  // its value
            continue;
        }
        if (++positionals == 2) {
            for (int j = i + 1; j < argc; ++j)
                program_arguments.emplace_back(argv[j]);
            argc = i + 1;
            break;
        }
    }
    return program_arguments;
}

}  // namespace myst::tools
