#include "tools/myst/command.h"

int main(int argc, char** argv) {
    // A package runs its application; it never parses myst's command line.
    if (auto status = myst::tools::run_package_if_present(argc, argv))
        return *status;
    return myst::tools::run_myst(argc, argv);
}
