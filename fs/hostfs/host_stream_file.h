// The host's standard streams (fds 0, 1, 2 of the myst process) as open
// files of the program: reads and writes go to the host descriptor through
// the Target, terminal queries (TCGETS, TIOCGWINSZ, TIOCGPGRP) too. The
// host descriptor is not closed with the file: the kernel keeps using the
// host's stderr for diagnostics.
#pragma once

#include <string>

#include "fs/vfs/open_file.h"
#include "target/target.h"

namespace myst::fs {

class HostStreamFile final : public OpenFile {
public:
    HostStreamFile(Target& target, int host_fd, int flags);

    Result<size_t> read(std::span<uint8_t> buffer) override;
    Result<size_t> write(std::span<const uint8_t> data) override;
    Result<struct stat> stat() override;
    Result<void> sync() override;
    Result<long> ioctl(unsigned long request, std::span<uint8_t> argument) override;
    std::string describe() const override;
    Result<std::shared_ptr<OpenFile>> reopen(int flags) override;
    // The host fd is its own wake fd: its readiness is the host's.
    uint32_t poll_events() override;
    bool is_pollable() const override { return true; }
    Result<void> add_wake_sources(WaitSources& sources, uint32_t events) override;
    int host_fd() const { return m_host_fd; }

private:
    Target& m_target;
    int m_host_fd;
};

}  // namespace myst::fs
