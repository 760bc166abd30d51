#include "tools/myst/command.h"

int main(int argc, char** argv) {
    return myst::tools::run_myst(argc, argv);
}
