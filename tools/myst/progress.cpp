#include "tools/myst/progress.h"

#include <unistd.h>

#include <cstdio>

namespace myst::tools {

ProgressLine::ProgressLine(std::string command, bool enabled)
    : m_command(std::move(command)), m_enabled(enabled && ::isatty(STDERR_FILENO)) {}

ProgressLine::~ProgressLine() {
    finish();
}

std::function<void(uint64_t, uint64_t)> ProgressLine::stage(std::string name, std::string unit) {
    if (!m_enabled)
        return {};
    m_last_percent = -1;
    return [this, name = std::move(name), unit = std::move(unit)](uint64_t done, uint64_t total) {
        show(name, unit, done, total);
    };
}

void ProgressLine::show(const std::string& stage, const std::string& unit, uint64_t done,
                        uint64_t total) {
    int percent = total ? static_cast<int>(done * 100 / total) : 100;
    if (percent == m_last_percent)
        return;
    m_last_percent = percent;
    constexpr double mib = 1 << 20;
    if (unit == "MiB")
        std::fprintf(stderr, "\r%s: %s %3d%% (%.0f/%.0f MiB)\033[K", m_command.c_str(),
                     stage.c_str(), percent, done / mib, total / mib);
    else
        std::fprintf(stderr, "\r%s: %s %3d%% (%llu/%llu %s)\033[K", m_command.c_str(),
                     stage.c_str(), percent, static_cast<unsigned long long>(done),
                     static_cast<unsigned long long>(total), unit.c_str());
    m_shown = true;
}

void ProgressLine::finish() {
    if (m_shown)
        std::fputs("\r\033[K", stderr);
    m_shown = false;
}

}  // namespace myst::tools
