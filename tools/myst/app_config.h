// The application configuration (Mystikos's config.json): what to run, with
// which arguments and environment, how much memory, and what to mount. Only
// the keys myst uses are kept; the others (ThreadStackSize, MaxAffinityCPUs,
// ...) and unknown keys are ignored. A malformed file or a
// key of the wrong type is an error naming the file, the key and the problem.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace myst::tools {

enum class MountType { ext2, hostfs, ramfs };

// One entry of "Mount": kept for the kernel's automatic mounts.
struct MountConfig {
    std::string target;  // "Target": absolute path inside the image
    MountType type = MountType::ramfs;
    std::vector<std::string> flags;  // "Flags", e.g. "ro"
    std::string public_key;          // "PublicKey" (ext2)
    std::string root_hash;           // "RootHash" or Mystikos's "Roothash" (ext2)
    std::string source;              // "Source": host path (usually given on the command line)
    std::string key_file;            // "KeyFile": key of an encrypted ext2 image
};

struct AppConfig {
    std::string application_path;                         // "ApplicationPath"
    std::vector<std::string> application_parameters;      // "ApplicationParameters"
    bool host_application_parameters = false;             // "HostApplicationParameters"
    std::vector<std::string> environment_variables;       // "EnvironmentVariables", "K=V" each
    std::vector<std::string> host_environment_variables;  // "HostEnvironmentVariables": names
    std::string current_working_directory;  // "CurrentWorkingDirectory"; empty: not set
    std::string hostname;                   // "Hostname"; empty: not set
    std::optional<uint64_t> memory_size;    // "MemorySize" (or the older "UserMemSize"), bytes
    std::vector<MountConfig> mounts;        // "Mount"
    // "MountablePaths": host paths (absolute) the program may mount(2) as
    // ext2 or hostfs, each with what is beneath it, besides Mount sources.
    std::vector<std::string> mountable_paths;
    std::string fork_mode;  // "ForkMode" as given; empty: not set
    // "LoopbackOnly": AF_INET/AF_INET6 on the loopback only, as
    // `--loopback-only` (either one turns it on).
    bool loopback_only = false;
    // The signed identity (`myst sign`, `myst package`), as an SGX enclave's
    // SIGSTRUCT holds it: ISVPRODID and ISVSVN are 16-bit.
    uint16_t product_id = 0;        // "ProductID"
    uint16_t security_version = 0;  // "SecurityVersion"
    bool debug = false;             // "Debug"
};

// Parses the text of a config file; `source` (the file name) starts every error.
// String lists ("ApplicationParameters", "EnvironmentVariables",
// "HostEnvironmentVariables") may also be a single string, and booleans may be
// 0/1, as Mystikos accepts.
Result<AppConfig> parse_app_config(std::string_view text, const std::string& source);

// The config as signed: parsed, checked as parse_app_config checks it, and
// written back as compact JSON with sorted keys, so that the same settings
// give the same bytes whatever the spacing and key order of the file.
Result<std::string> canonical_app_config(std::string_view text, const std::string& source);

// Reads and parses a config file.
Result<AppConfig> load_app_config(const std::string& path);

// The program's initial environment: the config's EnvironmentVariables, then
// the host's value of each HostEnvironmentVariables name that the host has
// (`host_environ` is a null-terminated "K=V" array such as `environ`), then
// MYST_TARGET=<target>. Nothing else of the host's environment gets in. A name
// given twice keeps its first position and takes the later value.
std::vector<std::string> app_environment(const AppConfig& config, const char* const* host_environ,
                                         std::string_view target = "linux");

// The program's arguments after argv[0]: the command line's when the config
// allows host arguments and some were given, else the config's
// ApplicationParameters.
std::vector<std::string> app_arguments(const AppConfig& config,
                                       std::span<const std::string> host_arguments);

}  // namespace myst::tools
