// The names AF_UNIX sockets are bound to (unix(7)): socket inodes in the
// kernel's file systems (bind makes the inode, connect finds the socket
// through it) and abstract names (a leading NUL, in no file system). An
// entry lives as long as its socket. Guarded by the kernel lock.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/result.h"
#include "fs/vfs/inode.h"

namespace myst::kernel {

class UnixSocket;

class UnixNames {
public:
    // EADDRINUSE while another live socket has the name.
    Result<void> add_abstract(const std::string& name, const std::shared_ptr<UnixSocket>& socket);
    void add_path(const fs::Inode& inode, const std::shared_ptr<UnixSocket>& socket);
    std::shared_ptr<UnixSocket> find_abstract(const std::string& name) const;
    std::shared_ptr<UnixSocket> find_path(const fs::Inode& inode) const;
    void remove_abstract(const std::string& name);
    void remove_path(const fs::Inode& inode);
    // The next autobind name: five hex digits, as Linux's.
    std::string next_autobind_name();

private:
    std::map<std::string, std::weak_ptr<UnixSocket>> m_abstract;
    std::map<const fs::Inode*, std::weak_ptr<UnixSocket>> m_paths;
    uint32_t m_next_autobind = 0;
};

}  // namespace myst::kernel
