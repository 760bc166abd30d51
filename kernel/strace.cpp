#include "kernel/strace.h"

#include <cstring>

#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr size_t max_traced_string = 64;

std::string quote(const std::string& text, bool truncated) {
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c < 32 || c > 126) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
            out += escaped;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
    if (truncated)
        out += "...";
    return out;
}

// A pointer that could not be read as a string, shown as strace shows it.
std::string hex(uint64_t address) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%lx", address);
    return text;
}

std::string format_string(Thread& thread, uint64_t address) {
    if (address == 0)
        return "NULL";
    auto text = copy_string_from_user(thread, address, max_traced_string + 1);
    if (!text.is_error())
        return quote(text.value(), false);
    if (text.error().code() != ENAMETOOLONG)
        return hex(address);
    // Longer than shown: print the start only.
    std::string prefix(max_traced_string, '\0');
    if (copy_from_user(thread, prefix.data(), address, prefix.size()).is_error())
        return hex(address);
    return quote(prefix, true);
}

std::string format_argument(Thread& thread, char format, uint64_t value) {
    char text[32];
    switch (format) {
        case 'd':
            std::snprintf(text, sizeof text, "%d", static_cast<int>(value));
            return text;
        case 'f':
            if (static_cast<int>(value) == -100)
                return "AT_FDCWD";
            std::snprintf(text, sizeof text, "%d", static_cast<int>(value));
            return text;
        case 'u':
            std::snprintf(text, sizeof text, "%lu", value);
            return text;
        case 'o':
            std::snprintf(text, sizeof text, "0%lo", value);
            return text;
        case 's':
            return format_string(thread, value);
        case 'p':
            if (value == 0)
                return "NULL";
            [[fallthrough]];
        default:
            std::snprintf(text, sizeof text, "0x%lx", value);
            return text;
    }
}

}  // namespace

bool Strace::wants(const char* name) const {
    if (!m_config.enabled)
        return false;
    if (m_config.only_names.empty())
        return true;
    for (const std::string& wanted : m_config.only_names)
        if (wanted == name)
            return true;
    return false;
}

std::string Strace::format_call(Thread& thread, long number, const SyscallEntry* entry,
                                const SyscallArgs& args) const {
    std::string line = "[pid " + std::to_string(thread.tid()) + "] ";
    if (!entry || !entry->name) {
        // Not implemented: name it as Linux does, so the gap is easy to find.
        const char* name = linux_syscall_name(number);
        line += (name ? std::string(name) : "SYS_" + std::to_string(number)) + "(";
        for (int i = 0; i < 6; ++i)
            line += (i ? ", " : "") + format_argument(thread, 'x', args.raw[i]);
        return line;
    }
    line += entry->name;
    line += "(";
    size_t count = std::strlen(entry->formats);
    for (size_t i = 0; i < count && i < 6; ++i)
        line += (i ? ", " : "") + format_argument(thread, entry->formats[i], args.raw[i]);
    return line;
}

void Strace::report(Thread& thread, const std::string& call, long result) const {
    if (m_config.failing_only && result >= 0)
        return;
    std::string line = call + ") = ";
    if (result < 0 && result > -4096) {
        int error = static_cast<int>(-result);
        const char* name = strerrorname_np(error);
        line += "-1 " + std::string(name ? name : "E?") + " (" + std::strerror(error) + ")";
    } else {
        char text[32];
        std::snprintf(text, sizeof text, result > 0xffff ? "0x%lx" : "%ld", result);
        line += text;
    }
    thread.kernel().target().write_diagnostic(line);
}

void Strace::report_no_return(Thread& thread, const std::string& call) const {
    if (!m_config.failing_only)
        thread.kernel().target().write_diagnostic(call + ") = ?");
}

}  // namespace myst::kernel
