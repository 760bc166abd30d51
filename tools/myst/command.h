// The `myst` command line: each command adds its CLI11 subcommand and returns
// the function that runs it once the arguments are parsed.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace myst::tools {

struct Command {
    CLI::App* app;
    std::function<int()> run;  // returns the process exit status
};

Command add_mkcpio_command(CLI::App& parent);
Command add_excpio_command(CLI::App& parent);
Command add_mkext2_command(CLI::App& parent);
Command add_fssig_command(CLI::App& parent);
// `program_arguments` receives what follows <program> on the command line.
Command add_exec_linux_command(CLI::App& parent, std::vector<std::string>& program_arguments);
Command add_exec_sgx_command(CLI::App& parent, std::vector<std::string>& program_arguments);
Command add_sign_command(CLI::App& parent);
Command add_sign_sgx_command(CLI::App& parent);
Command add_dump_command(CLI::App& parent);
Command add_dump_sgx_command(CLI::App& parent);
Command add_package_command(CLI::App& parent);
Command add_package_sgx_command(CLI::App& parent);
Command add_appbuilder_command(CLI::App& parent);

// When this executable is a package (myst package), checks it and runs its
// application with all of argv as the application's arguments, returning
// the exit status; nullopt for a plain myst.
std::optional<int> run_package_if_present(int argc, char** argv);

// Prints "myst <command>: <message>" on stderr and returns exit status 1.
int report_failure(std::string_view command, const Error& error);

// Runs the whole command line; main() only forwards to it.
int run_myst(int argc, char** argv);

}  // namespace myst::tools
