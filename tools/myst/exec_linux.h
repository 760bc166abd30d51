// Running a program on the kernel with the linux target: what `myst
// exec-linux` does, and what a package (`myst package`) does when it starts,
// from the root file system and config it carries.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/sha256.h"
#include "fs/vfs/inode.h"
#include "target/target.h"
#include "tools/myst/app_config.h"
#include "tools/myst/image_mount.h"

namespace myst::tools {

struct ExecOptions {
    std::string rootfs;
    std::string program;
    std::string memory_size;
    std::string fork_mode;  // --fork-mode: Mystikos ForkMode
    std::string block_cache_size;
    std::string app_config_path;
    bool strace = false;
    bool loopback_only = false;  // --loopback-only: sockets on the loopback only
    bool strace_failing = false;
    std::string strace_filter;
    // --no-confine: no seccomp filter and no Landlock after start-up
    // (target/linux_confinement.h), for debugging.
    bool no_confine = false;
    std::vector<std::string> mounts;           // <host path>=<target>
    std::vector<std::string> public_keys;      // --pubkey: trusted signers of ext2 images
    std::vector<std::string> root_hashes;      // --roothash: trusted ext2 root hashes
    std::vector<std::string> mountable_paths;  // --allow-mount-source: for mount(2)
    std::vector<std::string> program_arguments;

    // A package sets these: its verified config stands for --app-config-path
    // (`config_source` names it in messages), and `open_root` opens the root
    // file system it carries instead of `rootfs`.
    std::optional<AppConfig> config;
    std::string config_source;
    std::function<Result<std::shared_ptr<fs::FileSystem>>(Target&, const ImageOptions&)> open_root;
    // A package's signed identity for its TEE reports (kernel/tee_runtime.h):
    // the measurement and the signer (SHA-256 of the modulus). Zeros for
    // exec-linux, whose config is not signed.
    Sha256Digest measurement{};
    Sha256Digest signer{};
    // Starts every error line.
    std::string error_prefix = "myst exec-linux";
};

// Runs the program; returns its exit status (128+signal when a signal ended
// it), 127 when it is missing, 126 when it cannot run, 1 on other errors
// (reported on stderr in one line).
int run_exec_linux(const ExecOptions& options);

}  // namespace myst::tools
