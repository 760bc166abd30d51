// Host files for the build tools (tools/ may call the host directly; the
// kernel reaches the host only through target/).
#pragma once

#include <string>

#include "image/io.h"

namespace myst::tools {

class HostFile final : public image::RandomAccessFile {
public:
    static Result<std::unique_ptr<HostFile>> open_read(const std::string& path);
    static Result<std::unique_ptr<HostFile>> open_read_write(const std::string& path);
    // Takes ownership of an open descriptor.
    static std::unique_ptr<HostFile> adopt(int fd, std::string path);
    ~HostFile() override;

    Result<void> read_at(uint64_t offset, std::span<uint8_t> buffer) override;
    Result<void> write_at(uint64_t offset, std::span<const uint8_t> data) override;
    Result<uint64_t> size() override;
    Result<void> truncate(uint64_t size) override;

    const std::string& path() const { return m_path; }
    int fd() const { return m_fd; }

private:
    HostFile(int fd, std::string path) : m_fd(fd), m_path(std::move(path)) {}
    int m_fd;
    std::string m_path;
};

// The output of a build command. It is written under a temporary name beside
// the destination and renamed over it only by commit(), so a failed build
// never leaves a partial image; without commit() the destructor removes it.
class PendingOutput {
public:
    static Result<std::unique_ptr<PendingOutput>> create(const std::string& destination,
                                                         bool overwrite);
    ~PendingOutput();

    HostFile& file() { return *m_file; }
    const std::string& destination() const { return m_destination; }
    Result<void> commit();

private:
    PendingOutput(std::string destination, std::string temporary, std::unique_ptr<HostFile> file)
        : m_destination(std::move(destination)),
          m_temporary(std::move(temporary)),
          m_file(std::move(file)) {}
    std::string m_destination;
    std::string m_temporary;
    std::unique_ptr<HostFile> m_file;
    bool m_committed = false;
};

// Reads a whole (small) host file, e.g. a key or a PEM.
Result<std::vector<uint8_t>> read_whole_file(const std::string& path);

}  // namespace myst::tools
