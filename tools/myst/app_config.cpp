#include "tools/myst/app_config.h"

#include <nlohmann/json.hpp>

#include <map>

#include "base/size_parse.h"
#include "tools/myst/host_file.h"

namespace myst::tools {

namespace {

using Json = nlohmann::json;

std::string type_name(const Json& value) {
    switch (value.type()) {
        case Json::value_t::null:
            return "null";
        case Json::value_t::boolean:
            return "a boolean";
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
            return "an integer";
        case Json::value_t::number_float:
            return "a fractional number";
        case Json::value_t::string:
            return "a string";
        case Json::value_t::array:
            return "an array";
        case Json::value_t::object:
            return "an object";
        default:
            return "an unsupported value";
    }
}

// Errors read "<file>: <key>: <problem>".
class Reader {
public:
    explicit Reader(const std::string& source) : m_source(source) {}

    Error wrong_type(const std::string& key, const std::string& expected, const Json& got) const {
        return error(key, "expected " + expected + ", got " + type_name(got));
    }
    Error error(const std::string& key, const std::string& problem) const {
        return Error::invalid(m_source + ": " + key + ": " + problem);
    }

    Result<std::string> string(const std::string& key, const Json& value) const {
        if (!value.is_string())
            return wrong_type(key, "a string", value);
        return value.get<std::string>();
    }

    // Mystikos takes a single string where a list of strings is expected.
    Result<std::vector<std::string>> string_list(const std::string& key, const Json& value) const {
        if (value.is_string())
            return std::vector<std::string>{value.get<std::string>()};
        if (!value.is_array())
            return wrong_type(key, "an array of strings or a string", value);
        std::vector<std::string> items;
        for (size_t i = 0; i < value.size(); i++)
            items.push_back(TRY(string(key + "[" + std::to_string(i) + "]", value[i])));
        return items;
    }

    // true/false, or 0/1 as Mystikos also writes them.
    Result<bool> boolean(const std::string& key, const Json& value) const {
        if (value.is_boolean())
            return value.get<bool>();
        if (value.is_number_integer()) {
            auto number = value.get<int64_t>();
            if (number == 0 || number == 1)
                return number == 1;
        }
        return wrong_type(key, "true, false, 0 or 1", value);
    }

    // A byte count, or a string with a k/m/g suffix ("64m").
    Result<uint64_t> size(const std::string& key, const Json& value) const {
        uint64_t bytes = 0;
        if (value.is_number_unsigned()) {
            bytes = value.get<uint64_t>();
        } else if (value.is_number_integer()) {
            return error(key, "a size cannot be negative");
        } else if (value.is_string()) {
            auto parsed = parse_size(value.get<std::string>());
            if (parsed.is_error())
                return error(key, parsed.error().message());
            bytes = parsed.value();
        } else {
            return wrong_type(key, "a size (a number of bytes or a string like \"64m\")", value);
        }
        if (bytes == 0)
            return error(key, "the size must not be 0");
        return bytes;
    }

    // A 16-bit unsigned integer, as SGX's ISVPRODID and ISVSVN are.
    Result<uint16_t> u16(const std::string& key, const Json& value) const {
        if (!value.is_number_integer())
            return wrong_type(key, "an integer from 0 to 65535", value);
        auto number = value.get<int64_t>();
        if (number < 0 || number > 65535)
            return error(key, std::to_string(number) + " is not from 0 to 65535");
        return static_cast<uint16_t>(number);
    }

    Result<std::string> absolute_path(const std::string& key, const Json& value) const {
        std::string path = TRY(string(key, value));
        if (!path.starts_with('/'))
            return error(key, "'" + path + "' is not an absolute path");
        return path;
    }

private:
    const std::string& m_source;
};

Result<void> check_assignments(const Reader& reader, const std::vector<std::string>& entries) {
    for (size_t i = 0; i < entries.size(); i++) {
        size_t equals = entries[i].find('=');
        if (equals == 0 || equals == std::string::npos)
            return reader.error("EnvironmentVariables[" + std::to_string(i) + "]",
                                "'" + entries[i] + "' is not NAME=VALUE");
    }
    return {};
}

Result<void> check_names(const Reader& reader, const std::vector<std::string>& names) {
    for (size_t i = 0; i < names.size(); i++) {
        if (names[i].empty() || names[i].find('=') != std::string::npos)
            return reader.error("HostEnvironmentVariables[" + std::to_string(i) + "]",
                                "'" + names[i] + "' is not a variable name");
    }
    return {};
}

Result<MountType> mount_type(const Reader& reader, const std::string& key, const Json& value) {
    std::string name = TRY(reader.string(key, value));
    if (name == "ext2")
        return MountType::ext2;
    if (name == "hostfs")
        return MountType::hostfs;
    if (name == "ramfs")
        return MountType::ramfs;
    return reader.error(key, "unknown file-system type '" + name + "' (use ext2, hostfs or ramfs)");
}

// The mount flags a config may give: "ro" (read-only) and "rw".
Result<std::vector<std::string>> mount_flags(const Reader& reader, const std::string& key,
                                             const Json& value) {
    std::vector<std::string> flags = TRY(reader.string_list(key, value));
    for (const std::string& flag : flags)
        if (flag != "ro" && flag != "rw")
            return reader.error(key, "unknown mount flag \"" + flag + "\" (\"ro\" or \"rw\")");
    return flags;
}

Result<MountConfig> parse_mount(const Reader& reader, const std::string& key, const Json& value) {
    if (!value.is_object())
        return reader.wrong_type(key, "an object", value);
    if (!value.contains("Target"))
        return reader.error(key, "missing \"Target\"");
    if (!value.contains("Type"))
        return reader.error(key, "missing \"Type\"");
    MountConfig mount;
    for (const auto& [name, item] : value.items()) {
        std::string item_key = key + "." + name;
        if (name == "Target")
            mount.target = TRY(reader.absolute_path(item_key, item));
        else if (name == "Type")
            mount.type = TRY(mount_type(reader, item_key, item));
        else if (name == "Flags")
            mount.flags = TRY(mount_flags(reader, item_key, item));
        else if (name == "PublicKey")
            mount.public_key = TRY(reader.string(item_key, item));
        else if (name == "RootHash" || name == "Roothash")
            mount.root_hash = TRY(reader.string(item_key, item));
        else if (name == "Source")
            mount.source = TRY(reader.string(item_key, item));
        else if (name == "KeyFile")
            mount.key_file = TRY(reader.string(item_key, item));
    }
    return mount;
}

Result<AppConfig> read_config(const Reader& reader, const Json& root) {
    if (!root.is_object())
        return reader.wrong_type("top level", "an object", root);
    AppConfig config;
    for (const auto& [key, value] : root.items()) {
        if (key == "ApplicationPath") {
            config.application_path = TRY(reader.string(key, value));
        } else if (key == "ApplicationParameters") {
            config.application_parameters = TRY(reader.string_list(key, value));
        } else if (key == "HostApplicationParameters") {
            config.host_application_parameters = TRY(reader.boolean(key, value));
        } else if (key == "EnvironmentVariables") {
            config.environment_variables = TRY(reader.string_list(key, value));
            TRY(check_assignments(reader, config.environment_variables));
        } else if (key == "HostEnvironmentVariables") {
            config.host_environment_variables = TRY(reader.string_list(key, value));
            TRY(check_names(reader, config.host_environment_variables));
        } else if (key == "CurrentWorkingDirectory") {
            config.current_working_directory = TRY(reader.absolute_path(key, value));
        } else if (key == "Hostname") {
            config.hostname = TRY(reader.string(key, value));
        } else if (key == "MemorySize") {
            config.memory_size = TRY(reader.size(key, value));
        } else if (key == "Mount") {
            if (!value.is_array())
                return reader.wrong_type(key, "an array of mounts", value);
            for (size_t i = 0; i < value.size(); i++)
                config.mounts.push_back(
                    TRY(parse_mount(reader, key + "[" + std::to_string(i) + "]", value[i])));
        } else if (key == "LoopbackOnly") {
            config.loopback_only = TRY(reader.boolean(key, value));
        } else if (key == "ForkMode") {
            config.fork_mode = TRY(reader.string(key, value));
        } else if (key == "MountablePaths") {
            std::vector<std::string> paths = TRY(reader.string_list(key, value));
            for (size_t i = 0; i < paths.size(); i++)
                config.mountable_paths.push_back(
                    TRY(reader.absolute_path(key + "[" + std::to_string(i) + "]", Json(paths[i]))));
        } else if (key == "ProductID") {
            config.product_id = TRY(reader.u16(key, value));
        } else if (key == "SecurityVersion") {
            config.security_version = TRY(reader.u16(key, value));
        } else if (key == "Debug") {
            config.debug = TRY(reader.boolean(key, value));
        }
        // Everything else (ThreadStackSize, MaxAffinityCPUs, ...) is ignored.
    }
    // The older name counts only where the new one is absent.
    if (!config.memory_size && root.contains("UserMemSize"))
        config.memory_size = TRY(reader.size("UserMemSize", root["UserMemSize"]));
    return config;
}

// nlohmann's messages start with "[json.exception.parse_error.101] ".
std::string without_exception_tag(const std::string& message) {
    if (message.starts_with("[json.exception.")) {
        size_t end = message.find("] ");
        if (end != std::string::npos)
            return message.substr(end + 2);
    }
    return message;
}

// nlohmann reports syntax errors only by exception; they end here.
Result<Json> parse_json(std::string_view text, const std::string& source) {
    try {
        return Json::parse(text.begin(), text.end());
    } catch (const Json::parse_error& e) {
        return Error::invalid(source + ": malformed JSON: " + without_exception_tag(e.what()));
    } catch (const Json::exception& e) {
        return Error::invalid(source + ": " + without_exception_tag(e.what()));
    }
}

Result<AppConfig> read_config_safely(const Reader& reader, const Json& root,
                                     const std::string& source) {
    try {
        return read_config(reader, root);
    } catch (const Json::exception& e) {
        // The reader checks every type before reading; this is a safety net.
        return Error::invalid(source + ": " + without_exception_tag(e.what()));
    }
}

}  // namespace

Result<AppConfig> parse_app_config(std::string_view text, const std::string& source) {
    Json root = TRY(parse_json(text, source));
    return read_config_safely(Reader(source), root, source);
}

Result<std::string> canonical_app_config(std::string_view text, const std::string& source) {
    Json root = TRY(parse_json(text, source));
    TRY(read_config_safely(Reader(source), root, source));
    try {
        // nlohmann's objects are std::maps: dump() writes the keys sorted.
        return root.dump() + "\n";
    } catch (const Json::exception& e) {
        return Error::invalid(source + ": " + without_exception_tag(e.what()));  // bad UTF-8
    }
}

Result<AppConfig> load_app_config(const std::string& path) {
    std::vector<uint8_t> bytes = TRY(read_whole_file(path));
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return parse_app_config(text, path);
}

std::vector<std::string> app_environment(const AppConfig& config, const char* const* host_environ,
                                         std::string_view target) {
    std::vector<std::string> environment;
    std::map<std::string, size_t, std::less<>> position;  // name -> index in environment
    auto set = [&](const std::string& name, const std::string& assignment) {
        auto it = position.find(name);
        if (it != position.end()) {
            environment[it->second] = assignment;
            return;
        }
        position.emplace(name, environment.size());
        environment.push_back(assignment);
    };

    for (const std::string& assignment : config.environment_variables)
        set(assignment.substr(0, assignment.find('=')), assignment);
    for (const std::string& name : config.host_environment_variables) {
        for (const char* const* entry = host_environ; entry && *entry; entry++) {
            std::string_view host(*entry);
            if (host.size() > name.size() && host.starts_with(name) && host[name.size()] == '=') {
                set(name, std::string(host));
                break;
            }
        }
    }
    set("MYST_TARGET", "MYST_TARGET=" + std::string(target));
    return environment;
}

std::vector<std::string> app_arguments(const AppConfig& config,
                                       std::span<const std::string> host_arguments) {
    if (config.host_application_parameters && !host_arguments.empty())
        return {host_arguments.begin(), host_arguments.end()};
    return config.application_parameters;
}

}  // namespace myst::tools
