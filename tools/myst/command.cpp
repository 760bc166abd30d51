#include "tools/myst/command.h"

#include <iostream>

#include "tools/myst/exec_arguments.h"

namespace myst::tools {

int report_failure(std::string_view command, const Error& error) {
    std::cerr << "myst " << command << ": " << error.message() << "\n";
    return 1;
}

int run_myst(int argc, char** argv) {
    CLI::App app{
        "myst: run unmodified Linux programs on a small in-process kernel, from signed "
        "(dm-verity) or encrypted (dm-crypt) root file-system images.",
        "myst"};
    app.set_version_flag("--version", std::string("myst ") + MYST_VERSION);
    app.require_subcommand(1, 1);
    app.footer("Run 'myst <command> --help' for the options of one command.");

    std::vector<std::string> program_arguments = take_program_arguments(
        argc, argv,
        {"--memory-size", "--app-config-path", "--strace-filter", "--mount", "--pubkey",
         "--roothash", "--block-cache-size", "--allow-mount-source", "--fork-mode"});
    std::vector<Command> commands = {
        add_mkcpio_command(app),
        add_excpio_command(app),
        add_mkext2_command(app),
        add_fssig_command(app),
        add_exec_linux_command(app, program_arguments),
        add_exec_sgx_command(app, program_arguments),
        add_sign_command(app),
        add_sign_sgx_command(app),
        add_dump_command(app),
        add_dump_sgx_command(app),
        add_package_command(app),
        add_package_sgx_command(app),
        add_appbuilder_command(app),
    };

    std::string help_topic;
    CLI::App* help = app.add_subcommand("help", "Print this help, or the help of one command");
    help->add_option("command", help_topic, "Command to describe");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (help->parsed()) {
        for (Command& command : commands) {
            if (command.app->get_name() == help_topic) {
                std::cout << command.app->help();
                return 0;
            }
        }
        if (!help_topic.empty()) {
            std::cerr << "myst help: no command named '" << help_topic << "'\n";
            return 2;
        }
        std::cout << app.help();
        return 0;
    }
    for (Command& command : commands)
        if (command.app->parsed())
            return command.run();
    return 2;
}

}  // namespace myst::tools
