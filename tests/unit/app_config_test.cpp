// The application config (Mystikos's config.json): every key myst keeps, the
// forms Mystikos also accepts, errors that name the file, the key and the
// problem, and the environment a program starts with.
#include "tools/myst/app_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/test_support.h"

namespace myst::tools {
namespace {

AppConfig parse_ok(const std::string& text) {
    auto result = parse_app_config(text, "config.json");
    EXPECT_FALSE(result.is_error()) << result.error().message();
    return result ? result.release_value() : AppConfig{};
}

// The error message for a config that must be refused.
std::string parse_error(const std::string& text) {
    auto result = parse_app_config(text, "config.json");
    EXPECT_TRUE(result.is_error()) << "accepted: " << text;
    if (!result.is_error())
        return {};
    EXPECT_EQ(result.error().code(), EINVAL);
    EXPECT_TRUE(result.error().message().starts_with("config.json: ")) << result.error().message();
    return result.error().message();
}

TEST(AppConfig, FullConfigIsRead) {
    AppConfig config = parse_ok(R"({
        "version": "0.1",
        "Debug": 1,
        "ProductID": 1,
        "SecurityVersion": 1,
        "ThreadStackSize": "1m",
        "MaxAffinityCPUs": 2,
        "MemorySize": "40m",
        "ApplicationPath": "/bin/hello",
        "ApplicationParameters": ["red", "green blue", ""],
        "HostApplicationParameters": true,
        "EnvironmentVariables": ["A=1", "B=x=y", "EMPTY="],
        "HostEnvironmentVariables": ["TESTNAME", "HOME"],
        "CurrentWorkingDirectory": "/tmp",
        "Hostname": "enclave",
        "Mount": [
            {"Target": "/data", "Type": "ext2", "Flags": ["ro"], "PublicKey": "pub.pem",
             "Roothash": "ab12", "Source": "/host/data.ext2", "KeyFile": "/keys/k"},
            {"Target": "/host", "Type": "hostfs", "Source": "/srv", "RootHash": "cd34"},
            {"Target": "/mnt/ram", "Type": "ramfs", "Flags": []}
        ],
        "SomeFutureKey": {"nested": [1, 2, 3]}
    })");
    EXPECT_EQ(config.application_path, "/bin/hello");
    EXPECT_EQ(config.application_parameters, (std::vector<std::string>{"red", "green blue", ""}));
    EXPECT_TRUE(config.host_application_parameters);
    EXPECT_EQ(config.environment_variables, (std::vector<std::string>{"A=1", "B=x=y", "EMPTY="}));
    EXPECT_EQ(config.host_environment_variables, (std::vector<std::string>{"TESTNAME", "HOME"}));
    EXPECT_EQ(config.current_working_directory, "/tmp");
    EXPECT_EQ(config.hostname, "enclave");
    ASSERT_TRUE(config.memory_size.has_value());
    EXPECT_EQ(*config.memory_size, 40u << 20);

    ASSERT_EQ(config.mounts.size(), 3u);
    const MountConfig& ext2 = config.mounts[0];
    EXPECT_EQ(ext2.target, "/data");
    EXPECT_EQ(ext2.type, MountType::ext2);
    EXPECT_EQ(ext2.flags, std::vector<std::string>{"ro"});
    EXPECT_EQ(ext2.public_key, "pub.pem");
    EXPECT_EQ(ext2.root_hash, "ab12");
    EXPECT_EQ(ext2.source, "/host/data.ext2");
    EXPECT_EQ(ext2.key_file, "/keys/k");
    EXPECT_EQ(config.mounts[1].type, MountType::hostfs);
    EXPECT_EQ(config.mounts[1].source, "/srv");
    EXPECT_EQ(config.mounts[1].root_hash, "cd34");
    EXPECT_EQ(config.mounts[2].type, MountType::ramfs);
    EXPECT_TRUE(config.mounts[2].flags.empty());
}

TEST(AppConfig, EmptyObjectGivesDefaults) {
    AppConfig config = parse_ok("{}");
    EXPECT_TRUE(config.application_path.empty());
    EXPECT_TRUE(config.application_parameters.empty());
    EXPECT_FALSE(config.host_application_parameters);
    EXPECT_TRUE(config.environment_variables.empty());
    EXPECT_TRUE(config.current_working_directory.empty());
    EXPECT_FALSE(config.memory_size.has_value());
    EXPECT_TRUE(config.mounts.empty());
}

TEST(AppConfig, MystikosShorthandsAreAccepted) {
    // A single string where a list is expected, 0/1 for booleans.
    AppConfig config = parse_ok(R"({
        "ApplicationParameters": "only",
        "EnvironmentVariables": "K=V",
        "HostEnvironmentVariables": "TESTNAME",
        "HostApplicationParameters": 1
    })");
    EXPECT_EQ(config.application_parameters, std::vector<std::string>{"only"});
    EXPECT_EQ(config.environment_variables, std::vector<std::string>{"K=V"});
    EXPECT_EQ(config.host_environment_variables, std::vector<std::string>{"TESTNAME"});
    EXPECT_TRUE(config.host_application_parameters);
    EXPECT_FALSE(parse_ok(R"({"HostApplicationParameters": 0})").host_application_parameters);
}

TEST(AppConfig, MemorySizeSuffixesAndNumbers) {
    struct Case {
        std::string json;
        uint64_t bytes;
    } cases[] = {
        {"4096", 4096},         {"\"4096\"", 4096},       {"\"64k\"", 64u << 10},
        {"\"64K\"", 64u << 10}, {"\"512m\"", 512u << 20}, {"\"512M\"", 512u << 20},
        {"\"2g\"", 2ull << 30}, {"\"2G\"", 2ull << 30},   {"17179869184", 16ull << 30},
    };
    for (const Case& c : cases) {
        AppConfig config = parse_ok("{\"MemorySize\": " + c.json + "}");
        ASSERT_TRUE(config.memory_size.has_value()) << c.json;
        EXPECT_EQ(*config.memory_size, c.bytes) << c.json;
    }
}

TEST(AppConfig, OlderUserMemSizeCountsOnlyWithoutMemorySize) {
    EXPECT_EQ(parse_ok(R"({"UserMemSize": "8m"})").memory_size, std::optional<uint64_t>(8u << 20));
    EXPECT_EQ(parse_ok(R"({"UserMemSize": "8m", "MemorySize": "16m"})").memory_size,
              std::optional<uint64_t>(16u << 20));
    EXPECT_NE(parse_error(R"({"UserMemSize": "8q"})").find("UserMemSize"), std::string::npos);
}

TEST(AppConfig, BadMemorySizesAreRefused) {
    for (std::string value : {"\"64x\"", "\"\"", "\"m\"", "\"-1m\"", "-5", "0", "\"0\"", "1.5",
                              "true", "[\"64m\"]", "{}", "null", "\"99999999999g\""}) {
        std::string message = parse_error("{\"MemorySize\": " + value + "}");
        EXPECT_NE(message.find("config.json: MemorySize: "), std::string::npos)
            << value << " -> " << message;
    }
}

TEST(AppConfig, MalformedJsonIsRefusedWithThePosition) {
    for (std::string text : {"", "{", "{\"ApplicationPath\": }", "{\"a\": 1,}", "[1, 2",
                             "{\"ApplicationPath\": \"/bin/x\"} trailing", "\xff\xfe"}) {
        std::string message = parse_error(text);
        EXPECT_NE(message.find("config.json: malformed JSON: "), std::string::npos)
            << text << " -> " << message;
        EXPECT_EQ(message.find("[json.exception"), std::string::npos) << message;
    }
    EXPECT_NE(parse_error("{\n  \"Debug\": 1,\n  oops\n}").find("line 3"), std::string::npos);
}

TEST(AppConfig, TopLevelMustBeAnObject) {
    EXPECT_EQ(parse_error("[]"), "config.json: top level: expected an object, got an array");
    EXPECT_EQ(parse_error("\"x\""), "config.json: top level: expected an object, got a string");
}

TEST(AppConfig, WrongTypesNameTheKey) {
    struct Case {
        std::string json;
        std::string message;
    } cases[] = {
        {R"({"ApplicationPath": 5})",
         "config.json: ApplicationPath: expected a string, got an integer"},
        {R"({"ApplicationParameters": {"a": 1}})",
         "config.json: ApplicationParameters: expected an array of strings or a string, got an "
         "object"},
        {R"({"ApplicationParameters": ["a", 2]})",
         "config.json: ApplicationParameters[1]: expected a string, got an integer"},
        {R"({"HostApplicationParameters": "yes"})",
         "config.json: HostApplicationParameters: expected true, false, 0 or 1, got a string"},
        {R"({"HostApplicationParameters": 2})",
         "config.json: HostApplicationParameters: expected true, false, 0 or 1, got an integer"},
        {R"({"EnvironmentVariables": [null]})",
         "config.json: EnvironmentVariables[0]: expected a string, got null"},
        {R"({"EnvironmentVariables": ["A=1", "NOEQUALS"]})",
         "config.json: EnvironmentVariables[1]: 'NOEQUALS' is not NAME=VALUE"},
        {R"({"EnvironmentVariables": ["=value"]})",
         "config.json: EnvironmentVariables[0]: '=value' is not NAME=VALUE"},
        {R"({"HostEnvironmentVariables": ["A=B"]})",
         "config.json: HostEnvironmentVariables[0]: 'A=B' is not a variable name"},
        {R"({"HostEnvironmentVariables": [""]})",
         "config.json: HostEnvironmentVariables[0]: '' is not a variable name"},
        {R"({"CurrentWorkingDirectory": "relative/dir"})",
         "config.json: CurrentWorkingDirectory: 'relative/dir' is not an absolute path"},
        {R"({"Hostname": false})", "config.json: Hostname: expected a string, got a boolean"},
        {R"({"Mount": {}})", "config.json: Mount: expected an array of mounts, got an object"},
        {R"({"Mount": [5]})", "config.json: Mount[0]: expected an object, got an integer"},
        {R"({"Mount": [{"Type": "ext2"}]})", "config.json: Mount[0]: missing \"Target\""},
        {R"({"Mount": [{"Target": "/a"}]})", "config.json: Mount[0]: missing \"Type\""},
        {R"({"Mount": [{"Target": "/a", "Type": "ext2"}, {"Target": "/b", "Type": "nfs"}]})",
         "config.json: Mount[1].Type: unknown file-system type 'nfs' (use ext2, hostfs or ramfs)"},
        {R"({"Mount": [{"Target": "a", "Type": "ext2"}]})",
         "config.json: Mount[0].Target: 'a' is not an absolute path"},
        {R"({"Mount": [{"Target": "/a", "Type": "ext2", "Flags": [1]}]})",
         "config.json: Mount[0].Flags[0]: expected a string, got an integer"},
        {R"({"Mount": [{"Target": "/a", "Type": "ext2", "Flags": ["noexec"]}]})",
         "config.json: Mount[0].Flags: unknown mount flag \"noexec\" (\"ro\" or \"rw\")"},
        {R"({"Mount": [{"Target": "/a", "Type": "ext2", "Roothash": 12}]})",
         "config.json: Mount[0].Roothash: expected a string, got an integer"},
        {R"({"Mount": [{"Target": "/a", "Type": "ext2", "KeyFile": []}]})",
         "config.json: Mount[0].KeyFile: expected a string, got an array"},
    };
    for (const Case& c : cases)
        EXPECT_EQ(parse_error(c.json), c.message) << c.json;
}

TEST(AppConfig, MountablePathsAreAbsoluteHostPaths) {
    AppConfig config = parse_ok(R"({"MountablePaths": ["/srv/images", "/data/one.ext2"]})");
    EXPECT_EQ(config.mountable_paths, (std::vector<std::string>{"/srv/images", "/data/one.ext2"}));
    EXPECT_EQ(parse_ok(R"({"MountablePaths": "/srv"})").mountable_paths,
              std::vector<std::string>{"/srv"});
    EXPECT_TRUE(parse_ok("{}").mountable_paths.empty());
    EXPECT_EQ(parse_error(R"({"MountablePaths": ["/srv", "images"]})"),
              "config.json: MountablePaths[1]: 'images' is not an absolute path");
    EXPECT_EQ(parse_error(R"({"MountablePaths": [1]})"),
              "config.json: MountablePaths[0]: expected a string, got an integer");
}

TEST(AppConfig, IgnoredKeysAreNotTypeChecked) {
    AppConfig config = parse_ok(R"({"ThreadStackSize": [], "MaxThreads": null, "X": {}})");
    EXPECT_TRUE(config.application_path.empty());
}

// Debug, ProductID and SecurityVersion are signed and shown by `myst dump`,
// so they are read, and checked, like the keys the run uses.
TEST(AppConfig, TheSignedIdentityIsTypeChecked) {
    EXPECT_EQ(parse_error(R"({"Debug": "maybe"})"),
              "config.json: Debug: expected true, false, 0 or 1, got a string");
    EXPECT_EQ(parse_error(R"({"SecurityVersion": 1.5})"),
              "config.json: SecurityVersion: expected an integer from 0 to 65535, got a "
              "fractional number");
}

TEST(AppConfig, LoadReadsAFileAndNamesIt) {
    test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    test::write_file(dir.path("config.json"),
                     std::string(R"({"ApplicationPath": "/bin/app", "MemorySize": "1g"})"));
    auto loaded = load_app_config(dir.path("config.json"));
    ASSERT_FALSE(loaded.is_error()) << loaded.error().message();
    EXPECT_EQ(loaded.value().application_path, "/bin/app");
    EXPECT_EQ(loaded.value().memory_size, std::optional<uint64_t>(1ull << 30));

    test::write_file(dir.path("bad.json"), std::string(R"({"MemorySize": true})"));
    auto bad = load_app_config(dir.path("bad.json"));
    ASSERT_TRUE(bad.is_error());
    EXPECT_EQ(bad.error().message(),
              dir.path("bad.json") +
                  ": MemorySize: expected a size (a number of bytes or a string like \"64m\"), "
                  "got a boolean");

    auto missing = load_app_config(dir.path("missing.json"));
    ASSERT_TRUE(missing.is_error());
    EXPECT_EQ(missing.error().code(), ENOENT);
    EXPECT_NE(missing.error().message().find("missing.json"), std::string::npos);
}

// A host environment as a null-terminated array, like `environ`.
struct HostEnvironment {
    explicit HostEnvironment(std::vector<std::string> entries) : strings(std::move(entries)) {
        for (const std::string& s : strings)
            pointers.push_back(s.c_str());
        pointers.push_back(nullptr);
    }
    const char* const* get() const { return pointers.data(); }
    std::vector<std::string> strings;
    std::vector<const char*> pointers;
};

TEST(AppConfig, EnvironmentIsConfigThenListedHostVariablesThenTarget) {
    AppConfig config = parse_ok(R"({
        "EnvironmentVariables": ["A=1", "B=two=2"],
        "HostEnvironmentVariables": ["TESTNAME", "UNSET", "PATH"]
    })");
    HostEnvironment host({"HOME=/root", "TESTNAME=t1", "PATH=/usr/bin", "TESTNAMEX=no",
                          "SECRET=leak", "MYST_TARGET=sgx"});
    EXPECT_EQ(app_environment(config, host.get()),
              (std::vector<std::string>{"A=1", "B=two=2", "TESTNAME=t1", "PATH=/usr/bin",
                                        "MYST_TARGET=linux"}));
    EXPECT_EQ(app_environment(config, host.get(), "sgx").back(), "MYST_TARGET=sgx");
}

TEST(AppConfig, EnvironmentWithoutConfigOrHostIsOnlyTheTarget) {
    EXPECT_EQ(app_environment(AppConfig{}, nullptr), std::vector<std::string>{"MYST_TARGET=linux"});
    HostEnvironment host({"HOME=/root", "PATH=/bin"});
    EXPECT_EQ(app_environment(AppConfig{}, host.get()),
              std::vector<std::string>{"MYST_TARGET=linux"});
}

TEST(AppConfig, EnvironmentNamesGivenTwiceKeepTheLaterValue) {
    AppConfig config = parse_ok(R"({
        "EnvironmentVariables": ["A=config", "B=1", "A=again", "MYST_TARGET=fake"],
        "HostEnvironmentVariables": ["B", "EMPTY"]
    })");
    HostEnvironment host({"B=host", "EMPTY="});
    EXPECT_EQ(app_environment(config, host.get()),
              (std::vector<std::string>{"A=again", "B=host", "MYST_TARGET=linux", "EMPTY="}));
}

TEST(AppConfig, ArgumentsComeFromTheHostOnlyWhenAllowed) {
    std::vector<std::string> host = {"x", "--y"};
    AppConfig config = parse_ok(R"({"ApplicationParameters": ["a", "b"]})");
    EXPECT_EQ(app_arguments(config, host), (std::vector<std::string>{"a", "b"}));
    config.host_application_parameters = true;
    EXPECT_EQ(app_arguments(config, host), host);
    EXPECT_EQ(app_arguments(config, {}), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace myst::tools
