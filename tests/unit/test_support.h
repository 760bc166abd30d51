// Shared pieces of the unit tests: running Linux's own tools as checkers,
// scratch directories and whole-file I/O.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace myst::test {

struct CommandResult {
    int status = -1;     // exit status; -1 when killed or not run
    std::string output;  // stdout and stderr together
};

// Runs a shell command line and collects its output.
CommandResult run_command(const std::string& command);

// A scratch directory removed with everything in it at the end of the test.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    bool ok() const { return !m_path.empty(); }
    const std::string& path() const { return m_path; }
    std::string path(const std::string& name) const { return m_path + "/" + name; }
    // The path quoted for a shell command line.
    std::string file(const std::string& name) const { return "'" + path(name) + "'"; }

private:
    std::string m_path;
};

void write_file(const std::string& path, std::span<const uint8_t> bytes);
void write_file(const std::string& path, const std::string& text);
std::vector<uint8_t> read_file(const std::string& path);
std::vector<uint8_t> random_bytes(size_t count, uint32_t seed);

}  // namespace myst::test
