// Progress lines for long builds: printed on stderr, rewritten in place, and
// only when stderr is a terminal (logs and tests stay clean).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace myst::tools {

class ProgressLine {
public:
    ProgressLine(std::string command, bool enabled);
    ~ProgressLine();

    // A callback for the writers: "<command>: <stage> 42% (63/150 MiB)".
    std::function<void(uint64_t done, uint64_t total)> stage(std::string name, std::string unit);
    void finish();

private:
    void show(const std::string& stage, const std::string& unit, uint64_t done, uint64_t total);

    std::string m_command;
    bool m_enabled;
    bool m_shown = false;
    int m_last_percent = -1;
};

}  // namespace myst::tools
