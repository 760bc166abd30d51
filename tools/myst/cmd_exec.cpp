// myst exec-linux / exec-sgx: run a program from a root file system on the
// kernel. exec-linux uses the linux target (no TEE); exec-sgx would use the
// SGX target and refuses to run without one.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "base/size_parse.h"
#include "entry/entry.h"
#include "kernel/kernel_instance.h"
#include "target/linux_confinement.h"
#include "target/linux_target.h"
#include "tools/myst/app_config.h"
#include "tools/myst/command.h"
#include "tools/myst/exec_arguments.h"
#include "tools/myst/exec_linux.h"
#include "tools/myst/root_filesystem.h"

extern char** environ;

namespace myst::tools {

namespace {

constexpr int exit_not_found = 127;  // as a shell reports a missing program
constexpr int exit_cannot_run = 126;

Result<kernel::StraceConfig> strace_config(const ExecOptions& options) {
    kernel::StraceConfig config;
    config.enabled = options.strace || options.strace_failing || !options.strace_filter.empty() ||
                     std::getenv("MYST_STRACE") != nullptr;
    config.failing_only = options.strace_failing;
    std::string filter = options.strace_filter;
    size_t start = 0;
    while (start < filter.size()) {
        size_t end = filter.find(':', start);
        std::string name = filter.substr(start, end == std::string::npos ? end : end - start);
        if (name.rfind("SYS_", 0) == 0)
            name = name.substr(4);
        if (!name.empty())
            config.only_names.push_back(name);
        start = end == std::string::npos ? filter.size() : end + 1;
    }
    return config;
}

// Everything the run needs, from the command line and the config file.
struct ExecPlan {
    kernel::KernelConfig kernel;
    kernel::FirstProcess first;
    ImageOptions image;  // trust and cache for the root and every ext2 mount
    std::vector<MountRequest> mounts;
};

const char* type_name(MountType type) {
    switch (type) {
        case MountType::ext2:
            return "ext2";
        case MountType::hostfs:
            return "hostfs";
        case MountType::ramfs:
            return "ramfs";
    }
    return "";
}

// --mount pairs and the config's "Mount" entries, matched by target.
Result<std::vector<MountRequest>> plan_mounts(const ExecOptions& options, const AppConfig& config,
                                              const ImageOptions& trust) {
    std::vector<MountRequest> mounts;
    for (const std::string& option : options.mounts)
        mounts.push_back(TRY(parse_mount_option(option)));
    for (const MountConfig& entry : config.mounts) {
        auto same = std::find_if(mounts.begin(), mounts.end(),
                                 [&](const MountRequest& m) { return m.target == entry.target; });
        if (same == mounts.end()) {
            if (entry.source.empty() && entry.type != MountType::ramfs)
                return Error::invalid("config Mount " + entry.target +
                                      " has no Source: give --mount <host path>=" + entry.target);
            MountRequest request;
            request.source = entry.source;
            request.target = entry.target;
            mounts.push_back(std::move(request));
            same = std::prev(mounts.end());
        }
        same->type = type_name(entry.type);
        same->key_file = entry.key_file;
        same->read_only =
            std::find(entry.flags.begin(), entry.flags.end(), "ro") != entry.flags.end();
        if (!entry.public_key.empty())
            same->image.public_key_pems.push_back(entry.public_key);
        if (!entry.root_hash.empty())
            same->image.root_hashes.push_back(entry.root_hash);
    }
    for (MountRequest& mount : mounts) {
        auto& t = mount.image;
        t.public_key_files.insert(t.public_key_files.end(), trust.public_key_files.begin(),
                                  trust.public_key_files.end());
        t.root_hashes.insert(t.root_hashes.end(), trust.root_hashes.begin(),
                             trust.root_hashes.end());
        t.cache_bytes = trust.cache_bytes;
    }
    return mounts;
}

Result<std::string> canonical_host_path(const std::string& path, const std::string& what) {
    std::unique_ptr<char, void (*)(void*)> resolved(::realpath(path.c_str(), nullptr), ::free);
    if (!resolved)
        return Error(errno, what + " " + path);
    return std::string(resolved.get());
}

// What the program may mount(2): the sources of the run's own mounts and
// the listed paths, canonical so that the kernel's check compares like
// with like.
Result<std::vector<std::string>> plan_mountable_paths(const ExecOptions& options,
                                                      const AppConfig& config,
                                                      const std::vector<MountRequest>& mounts) {
    std::vector<std::string> paths;
    for (const MountRequest& mount : mounts) {
        // A missing source fails its own mount, with a better message.
        if (!mount.source.empty() && mount.source.front() == '/')
            if (auto canonical = canonical_host_path(mount.source, "mount source");
                !canonical.is_error())
                paths.push_back(canonical.release_value());
    }
    for (const std::string& path : config.mountable_paths)
        paths.push_back(TRY(canonical_host_path(path, "config MountablePaths")));
    for (const std::string& path : options.mountable_paths)
        paths.push_back(TRY(canonical_host_path(path, "--allow-mount-source")));
    return paths;
}

// Mystikos's ForkMode names.
Result<kernel::ForkMode> parse_fork_mode(const std::string& value, const std::string& where) {
    if (value == "pseudo")
        return kernel::ForkMode::pseudo;
    if (value == "pseudo_wait_for_exit_exec")
        return kernel::ForkMode::pseudo_wait_for_exit_exec;
    if (value == "none")
        return kernel::ForkMode::none;
    return Error::invalid(where + ": unknown ForkMode \"" + value +
                          "\" (pseudo, pseudo_wait_for_exit_exec or none)");
}

// The identity the program's TEE reports name: Mystikos's sources for an
// SGX enclave's (MRENCLAVE, MRSIGNER, ISVPRODID, ISVSVN, DEBUG), as far as
// the run has them.
kernel::TeeIdentity tee_identity(const ExecOptions& options, const AppConfig& config) {
    kernel::TeeIdentity identity;
    identity.unique_id = options.measurement;
    identity.signer_id = options.signer;
    identity.product_id[0] = static_cast<uint8_t>(config.product_id);
    identity.product_id[1] = static_cast<uint8_t>(config.product_id >> 8);
    identity.security_version = config.security_version;
    if (config.debug)
        identity.attributes |= MYST_TEE_ATTRIBUTE_DEBUG;
    return identity;
}

Result<ExecPlan> make_plan(const ExecOptions& options) {
    ExecPlan plan;
    AppConfig config;
    if (options.config)
        config = *options.config;
    else if (!options.app_config_path.empty())
        config = TRY(load_app_config(options.app_config_path));
    bool configured = options.config || !options.app_config_path.empty();
    const std::string& config_source =
        options.config ? options.config_source : options.app_config_path;
    plan.kernel.strace = TRY(strace_config(options));
    plan.kernel.tee_identity = tee_identity(options, config);
    plan.kernel.fs_switch = TRY(entry::host_fs_switch());
    if (config.memory_size)
        plan.kernel.memory_size = *config.memory_size;
    if (!options.memory_size.empty()) {
        auto size = parse_size(options.memory_size);
        if (size.is_error())
            return size.release_error().with_context("--memory-size");
        plan.kernel.memory_size = size.value();
    }
    if (!config.hostname.empty())
        plan.kernel.hostname = config.hostname;
    plan.kernel.loopback_only = options.loopback_only || config.loopback_only;
    if (!options.fork_mode.empty())
        plan.kernel.fork_mode = TRY(parse_fork_mode(options.fork_mode, "--fork-mode"));
    else if (!config.fork_mode.empty())
        plan.kernel.fork_mode = TRY(parse_fork_mode(config.fork_mode, "config ForkMode"));
    std::string program = options.program.empty() ? config.application_path : options.program;
    if (program.empty())
        return Error::invalid("no program given (and no ApplicationPath in the config)");
    plan.first.exec.path = program;
    plan.first.exec.arguments.push_back(program);
    std::vector<std::string> arguments = options.program_arguments;
    if (configured) {
        arguments = app_arguments(config, options.program_arguments);
        if (!config.host_application_parameters && !options.program_arguments.empty())
            std::fprintf(stderr,
                         "%s: ignoring %zu command-line argument%s after the "
                         "program: %s does not set \"HostApplicationParameters\": true\n",
                         options.error_prefix.c_str(), options.program_arguments.size(),
                         options.program_arguments.size() == 1 ? "" : "s", config_source.c_str());
    }
    plan.first.exec.arguments.insert(plan.first.exec.arguments.end(), arguments.begin(),
                                     arguments.end());
    plan.first.exec.environment = app_environment(config, environ);
    if (!config.current_working_directory.empty())
        plan.first.working_directory = config.current_working_directory;
    plan.image.public_key_files = options.public_keys;
    plan.image.root_hashes = options.root_hashes;
    if (!options.block_cache_size.empty()) {
        auto size = parse_size(options.block_cache_size);
        if (size.is_error())
            return size.release_error().with_context("--block-cache-size");
        plan.image.cache_bytes = size.value();
        plan.kernel.image_cache_bytes = size.value();
    }
    plan.mounts = TRY(plan_mounts(options, config, plan.image));
    plan.kernel.mountable_paths = TRY(plan_mountable_paths(options, config, plan.mounts));
    // mount(2) inside the program trusts what the command line trusts.
    plan.kernel.image_trust = TRY(load_image_trust(plan.image));
    return plan;
}

// The host paths the program may still reach through the kernel once it
// runs: hostfs roots and mount sources (writable unless mounted "ro"), and
// what it may mount(2) itself (a directory as hostfs, read-write; an image,
// read). Images, config and key files are open or read by then and need
// no grant.
std::vector<HostGrant> run_time_grants(const ExecOptions& options, const ExecPlan& plan,
                                       bool root_is_host_directory) {
    std::vector<HostGrant> grants;
    if (root_is_host_directory)
        grants.push_back({options.rootfs, true});
    for (const MountRequest& mount : plan.mounts) {
        struct stat st {};
        if (mount.type != "ramfs" && ::stat(mount.source.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            grants.push_back({mount.source, !mount.read_only});
    }
    for (const std::string& path : plan.kernel.mountable_paths)
        grants.push_back({path, true});  // only directories take write rights
    return grants;
}

// Start-up is done: the program's first instruction is next. From here on a
// program that escapes the kernel reaches only the granted host files and
// the host calls the target makes (target/linux_confinement.h).
Result<void> confine(const ExecOptions& options, const ExecPlan& plan,
                     bool root_is_host_directory) {
    auto grants = run_time_grants(options, plan, root_is_host_directory);
    auto files = confine_host_files(grants);
    if (files.is_error())
        return files.release_error().with_context(
            "cannot confine myst (--no-confine runs without)");
    if (files.value() == FileConfinement::unavailable)
        std::fprintf(stderr,
                     "%s: note: this host has no Landlock (Linux 5.13 or later): host files are "
                     "not confined, only host system calls\n",
                     options.error_prefix.c_str());
    auto calls = confine_host_syscalls();
    if (calls.is_error())
        return calls.release_error().with_context(
            "cannot confine myst (--no-confine runs without)");
    return {};
}

int fail(const ExecOptions& options, const Error& error) {
    std::fprintf(stderr, "%s: %s\n", options.error_prefix.c_str(), error.message().c_str());
    return 1;
}

}  // namespace

int run_exec_linux(const ExecOptions& options) {
    auto plan = make_plan(options);
    if (plan.is_error())
        return fail(options, plan.error());
    // A write to a closed pipe (`myst exec-linux ... | head -c1`) must come
    // back as EPIPE, for the kernel to give the program SIGPIPE by the
    // program's own disposition; the host's default would end myst itself.
    ::signal(SIGPIPE, SIG_IGN);
    // MYST_NO_OPENAT2=1 tests hostfs's walk for hosts without openat2(2).
    const char* no_openat2 = std::getenv("MYST_NO_OPENAT2");
    LinuxTarget target(
        {.use_openat2 = no_openat2 == nullptr || std::string_view(no_openat2) == "0"});
    auto root = options.open_root
                    ? options.open_root(target, plan.value().image)
                    : open_root_filesystem(target, options.rootfs, plan.value().image);
    if (root.is_error())
        return fail(options, root.error());
    auto kernel = kernel::KernelInstance::create(target, plan.value().kernel, root.release_value());
    if (kernel.is_error())
        return fail(options, kernel.error());
    struct stat st {};
    bool host_directory =
        !options.open_root && ::stat(options.rootfs.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    auto mounted = mount_standard_filesystems(*kernel.value(), host_directory, plan.value().mounts);
    if (mounted.is_error())
        return fail(options, mounted.error());
    if (!options.no_confine)
        if (auto confined = confine(options, plan.value(), host_directory); confined.is_error())
            return fail(options, confined.error());
    auto status = kernel.value()->run_first_process(plan.value().first);
    if (status.is_error()) {
        fail(options, status.error());
        int code = status.error().code();
        return code == ENOENT                        ? exit_not_found
               : (code == EACCES || code == ENOEXEC) ? exit_cannot_run
                                                     : 1;
    }
    return status.value();
}

namespace {

int run_exec_sgx(const ExecOptions&) {
    struct stat st {};
    if (::stat("/dev/sgx_enclave", &st) != 0)
        return report_failure("exec-sgx",
                              Error(ENODEV,
                                    "no SGX on this machine (/dev/sgx_enclave is missing); "
                                    "use 'myst exec-linux' to run the same image without a TEE"));
    return report_failure("exec-sgx", Error(ENOTSUP,
                                            "the SGX target is not built into this myst yet; "
                                            "use 'myst exec-linux' to run without a TEE"));
}

Command add_exec_command(CLI::App& parent, const std::string& name, bool sgx,
                         std::vector<std::string>& program_arguments) {
    auto options = std::make_shared<ExecOptions>();
    CLI::App* app = parent.add_subcommand(
        name, sgx ? "Run a program from a root file system in an SGX enclave"
                  : "Run a program from a root file system on the kernel, without a TEE");
    app->footer(
        std::string(sgx ? "Run <program> from <rootfs> inside an SGX enclave.\n"
                        : "Run <program> from <rootfs> on myst's kernel in this process (linux\n"
                          "target: no TEE, for development and testing).\n") +
        "<rootfs> is a CPIO image (myst mkcpio), an ext2 image (myst mkext2,\n"
        "checked block by block against its hash tree) or a host directory; a\n"
        "host directory is INSECURE (hostfs: the host sees and controls every byte).\n"
        "Writes to images stay in memory and are lost at exit.\n"
        "The program, its loader and its libraries come from <rootfs>. Its\n"
        "exit status is myst's; a signal that ends it gives 128+signal.\n\n" +
        std::string(blk::image_fssig_trust_note) +
        "\n\nAn encrypted ext2 image is mounted with --mount <image>=<target> and a\n"
        "config \"Mount\" entry naming its 64-byte \"KeyFile\" (the development-time\n"
        "key path; key release by attestation comes later).\n"
        "The program may mount(2) ext2 images (source: a host path; data\n"
        "\"key=<hex>\" for an encrypted one), host directories (\"hostfs\") and\n"
        "ramfs/tmpfs; those images are trusted by the same --pubkey/--roothash.\n"
        "Its ext2 and hostfs sources must be host paths the operator named: a\n"
        "--mount or config \"Mount\" source, or a path given with\n"
        "--allow-mount-source or config \"MountablePaths\" (a directory allows what\n"
        "is beneath it; compared after resolving \"..\" and symlinks); any other\n"
        "source is EPERM.\n\n"
        "Once the program starts, myst confines itself: a seccomp filter allows\n"
        "only the host calls myst makes (no execve, ptrace, mount, ...) and\n"
        "Landlock (Linux 5.13+) only the host paths above that the program may\n"
        "still reach (hostfs mounts, mountable paths). --strace works as before;\n"
        "--no-confine turns both off for debugging (doc/confinement.md).\n\n"
        "Example:\n  myst " +
        name +
        " rootfs.cpio /bin/hello\n"
        "  myst " +
        name +
        " --strace --memory-size 64m rootfs.cpio /bin/ls -l /\n\n"
        "Requirements: x86-64 Linux 5.11 or later (Syscall User Dispatch). FSGSBASE\n"
        "is used when the CPU offers it (faster syscalls); without it, or with\n"
        "MYST_NO_FSGSBASE=1 in myst's environment, the entry switches FS with\n"
        "arch_prctl. hostfs opens host files with openat2(2) where the host has it\n"
        "(Linux 5.6), else (or with MYST_NO_OPENAT2=1) one name at a time.");
    app->add_option("rootfs", options->rootfs,
                    "CPIO image, ext2 image or host directory (insecure)")
        ->required();
    app->add_option("program", options->program, "Program path inside the root file system");
    app->add_option("--memory-size", options->memory_size,
                    "Memory the program may use, e.g. 512m (k/m/g; default 512m)");
    app->add_option("--fork-mode", options->fork_mode,
                    "How fork runs the child (Mystikos's ForkMode): pseudo (default: parent "
                    "and child both run, each on its own copy of its memory, taking turns), "
                    "pseudo_wait_for_exit_exec (the parent waits until the child execs or "
                    "exits, then has its memory back as at fork) or none (fork fails with "
                    "ENOTSUP)");
    app->add_option("--block-cache-size", options->block_cache_size,
                    "Verified (and decrypted) ext2 blocks kept in memory per image, e.g. 256m "
                    "(default 64m; 0: none); the images the program mounts share this much");
    app->add_option("--app-config-path", options->app_config_path, "Mystikos config.json");
    app->add_flag(
        "--loopback-only", options->loopback_only,
        "Let AF_INET/AF_INET6 sockets bind, connect and send on the loopback only "
        "(a bind to the wildcard address binds 127.0.0.1 or ::1; config key LoopbackOnly)");
    app->add_flag("--strace", options->strace,
                  "Print every system call on stderr (also MYST_STRACE=1)");
    app->add_flag("--strace-failing", options->strace_failing, "Print only failing system calls");
    app->add_option("--strace-filter", options->strace_filter,
                    "Print only these calls, e.g. 'SYS_open:SYS_read'");
    app->add_flag("--no-confine", options->no_confine,
                  "Do not confine myst once the program starts (no seccomp, no Landlock): for "
                  "debugging only; a program that escapes the kernel then reaches the host as "
                  "myst's user (doc/confinement.md)");
    app->add_option("--mount", options->mounts,
                    "Mount <host path>=<target>: a directory as hostfs (insecure), an ext2 image")
        ->allow_extra_args(false);  // one value per --mount; repeat it for more
    app->add_option("--allow-mount-source", options->mountable_paths,
                    "Let the program mount(2) this host path (an image, or a directory and "
                    "what is beneath it; repeatable)")
        ->allow_extra_args(false);
    app->add_option("--pubkey", options->public_keys,
                    "Trust ext2 images signed with this RSA public key (PEM; repeatable)")
        ->allow_extra_args(false);
    app->add_option("--roothash", options->root_hashes,
                    "Trust ext2 images with this root hash (hex; repeatable)")
        ->allow_extra_args(false);
    return {app, [options, sgx, &program_arguments] {
                options->program_arguments = program_arguments;
                return sgx ? run_exec_sgx(*options) : run_exec_linux(*options);
            }};
}

}  // namespace

Command add_exec_linux_command(CLI::App& parent, std::vector<std::string>& program_arguments) {
    return add_exec_command(parent, "exec-linux", false, program_arguments);
}

Command add_exec_sgx_command(CLI::App& parent, std::vector<std::string>& program_arguments) {
    return add_exec_command(parent, "exec-sgx", true, program_arguments);
}

}  // namespace myst::tools
