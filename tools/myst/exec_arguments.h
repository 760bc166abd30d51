#pragma once

#include <set>
#include <string>
#include <vector>

namespace myst::tools {

// For `myst exec-linux [options] <rootfs> <program> [args...]`: removes the
// program's own arguments (everything after <program>) from argv, so that
// options meant for the program (`ls -l`) never reach myst's parser.
// `value_options` are myst's options that take a separate value.
std::vector<std::string> take_program_arguments(int& argc, char** argv,
                                                const std::set<std::string>& value_options);

}  // namespace myst::tools
