// Files on Linux's anonymous inode: eventfd, timerfd, signalfd and epoll
// instances. They have no path and no file type.
#pragma once

#include <sys/stat.h>

#include <string>

#include "base/result.h"
#include "fs/vfs/open_file.h"

namespace myst::kernel {

// fstat shows no file type and /proc/<pid>/fd "anon_inode:[<name>]", as
// Linux's anon_inode.
class AnonymousFile : public fs::OpenFile {
public:
    AnonymousFile(int flags, const char* name) : OpenFile(flags), m_name(name) {}
    Result<struct stat> stat() override;
    std::string describe() const override;
    bool is_pollable() const override { return true; }

private:
    const char* m_name;
};

}  // namespace myst::kernel
