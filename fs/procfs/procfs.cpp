#include "fs/procfs/procfs.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "fs/vfs/synthetic.h"

namespace myst::fs {

namespace {

constexpr long kProcMagic = 0x9fa0;  // PROC_SUPER_MAGIC

// What a per-process inode is; part of its inode number.
enum class Kind : uint64_t {
    directory = 1,
    cmdline,
    comm,
    cwd,
    environ,
    exe,
    fd_directory,
    fd_link,
    maps,
    mounts,
    root,
    stat,
    status,
    task_directory,
    task_entry,  // /proc/<pid>/task/<tid>: the tid is the inode's low bits
    task_comm,
    task_stat,
    task_status,
};

// Per-process inode numbers: the pid, the kind and, for fd links, the fd.
uint64_t process_ino(pid_t pid, Kind kind, int fd = 0) {
    return (static_cast<uint64_t>(pid) + 1) << 32 | static_cast<uint64_t>(kind) << 24 |
           (static_cast<uint64_t>(fd) & 0xffffff);
}

Result<int> parse_number(std::string_view name) {
    int value = 0;
    auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), value);
    if (error != std::errc() || end != name.data() + name.size() || value < 0 ||
        (name.size() > 1 && name.front() == '0'))
        return Error(ENOENT, "no such file or directory");
    return value;
}

// /proc/mounts escapes blanks and backslashes in paths as octal.
std::string escape_mount_path(const std::string& path) {
    std::string escaped;
    for (char c : path) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
            char octal[8];
            std::snprintf(octal, sizeof(octal), "\\%03o", static_cast<unsigned char>(c));
            escaped += octal;
        } else {
            escaped += c;
        }
    }
    return escaped;
}

class ProcFileSystem final : public SyntheticFileSystem {
public:
    ProcFileSystem(ProcessInfo& processes, const Vfs& vfs, Clock clock)
        : SyntheticFileSystem("proc", kProcMagic, clock()),
          processes(processes),
          vfs(vfs),
          clock(std::move(clock)) {}

    ProcessInfo& processes;
    const Vfs& vfs;
    Clock clock;

    Result<std::string> mounts_text() const {
        std::string text;
        for (const MountInfo& mount : vfs.mounts())
            text += escape_mount_path(mount.source) + " " + escape_mount_path(mount.path) + " " +
                    mount.type + (mount.read_only ? " ro" : " rw") + " 0 0\n";
        return text;
    }
};

std::shared_ptr<Inode> text_file(ProcFileSystem& fs, uint64_t ino, mode_t permissions,
                                 GeneratedFile::Generator content) {
    return std::make_shared<GeneratedFile>(fs, ino, permissions, std::move(content));
}

std::shared_ptr<Inode> symlink_to(ProcFileSystem& fs, uint64_t ino,
                                  GeneratedSymlink::Generator target) {
    return std::make_shared<GeneratedSymlink>(fs, ino, std::move(target));
}

std::string status_text(const ProcessStatus& st) {
    auto ids = [](unsigned a, unsigned b, unsigned c) {
        return std::to_string(a) + "\t" + std::to_string(b) + "\t" + std::to_string(c) + "\t" +
               std::to_string(b) + "\n";
    };
    std::string state = st.state == 'R'   ? "R (running)"
                        : st.state == 'S' ? "S (sleeping)"
                        : st.state == 'Z' ? "Z (zombie)"
                                          : std::string(1, st.state);
    return "Name:\t" + st.name + "\nState:\t" + state + "\nTgid:\t" + std::to_string(st.pid) +
           "\nNgid:\t0\nPid:\t" + std::to_string(st.thread_id ? st.thread_id : st.pid) +
           "\nPPid:\t" + std::to_string(st.parent_pid) + "\nTracerPid:\t0\nUid:\t" +
           ids(st.uid, st.euid, st.suid) + "Gid:\t" + ids(st.gid, st.egid, st.sgid) +
           "FDSize:\t64\nGroups:\t\nVmSize:\t" + std::to_string(st.virtual_memory_bytes / 1024) +
           " kB\nVmRSS:\t" + std::to_string(st.resident_memory_bytes / 1024) + " kB\nThreads:\t" +
           std::to_string(st.threads) + "\n";
}

std::string stat_text(const ProcessStatus& st) {
    // The 52 fields of proc(5); those the kernel does not track are 0.
    std::string text =
        std::to_string(st.thread_id ? st.thread_id : st.pid) + " (" + st.name + ") " + st.state;
    std::vector<std::string> fields(49, "0");  // fields 4..52
    auto set = [&](int number, std::string value) { fields[number - 4] = std::move(value); };
    set(4, std::to_string(st.parent_pid));
    set(5, std::to_string(st.group_id));
    set(6, std::to_string(st.session_id));
    set(8, "-1");   // no terminal process group
    set(18, "20");  // priority
    set(20, std::to_string(st.threads));
    set(23, std::to_string(st.virtual_memory_bytes));
    set(24, std::to_string(st.resident_memory_bytes / 4096));
    set(25, "18446744073709551615");  // RLIM_INFINITY
    set(38, "17");                    // SIGCHLD
    for (const std::string& field : fields)
        text += " " + field;
    return text + "\n";
}

// What /proc/<pid>/fd/N leads to when the open file has no path: its
// status, and opening it opens the same object again (as Linux does for
// pipes).
class PathlessFileInode final : public SyntheticInode {
public:
    PathlessFileInode(SyntheticFileSystem& fs, uint64_t ino, mode_t mode,
                      std::shared_ptr<OpenFile> file)
        : SyntheticInode(fs, ino, mode), m_file(std::move(file)) {}

    Result<std::shared_ptr<OpenFile>> open(const PathRef&, int flags) override {
        return m_file->reopen(flags);
    }
    bool is_named_fifo() const override { return false; }

protected:
    Result<struct stat> read_stat() override { return m_file->stat(); }

private:
    std::shared_ptr<OpenFile> m_file;
};

// An inode of /proc/<pid>/: its number says whose it is and what it is.
class ProcessInode : public SyntheticInode {
public:
    ProcessInode(ProcFileSystem& fs, pid_t pid, Kind kind, mode_t mode, int fd = 0)
        : SyntheticInode(fs, process_ino(pid, kind, fd), mode), m_fs(fs), m_pid(pid) {}

protected:
    ProcFileSystem& m_fs;
    const pid_t m_pid;
};

// /proc/<pid>/fd/N: a link to what the descriptor refers to.
class FdLink final : public ProcessInode {
public:
    FdLink(ProcFileSystem& fs, pid_t pid, int fd)
        : ProcessInode(fs, pid, Kind::fd_link, S_IFLNK | 0700, fd), m_fd(fd) {}

    Result<std::string> read_link() override {
        std::shared_ptr<OpenFile> file = TRY(m_fs.processes.open_file(m_pid, m_fd));
        return file->describe();
    }
    PathRef magic_link_target(const PathRef& link) override {
        auto file = m_fs.processes.open_file(m_pid, m_fd);
        if (file.is_error())
            return nullptr;
        if (PathRef path = file.value()->path())
            return path;
        // A file without a path (pipe, host stream) is reached through a
        // stand-in inode that opens the same object again.
        auto st = file.value()->stat();
        if (st.is_error())
            return nullptr;
        auto inode = std::make_shared<PathlessFileInode>(m_fs, ino(), st.value().st_mode,
                                                         file.release_value());
        return std::make_shared<PathNode>(link->parent(), link->name(), std::move(inode),
                                          link->mount());
    }

private:
    int m_fd;
};

// /proc/<pid>/root: a link to the process's root directory (chroot(2)),
// followed to the directory itself rather than by its name, as Linux's
// magic links are.
class RootLink final : public ProcessInode {
public:
    RootLink(ProcFileSystem& fs, pid_t pid) : ProcessInode(fs, pid, Kind::root, S_IFLNK | 0777) {}

    Result<std::string> read_link() override { return m_fs.processes.root_path(m_pid); }
    PathRef magic_link_target(const PathRef&) override { return m_fs.processes.root_node(m_pid); }
};

class FdDirectory final : public ProcessInode {
public:
    FdDirectory(ProcFileSystem& fs, pid_t pid)
        : ProcessInode(fs, pid, Kind::fd_directory, S_IFDIR | 0500) {}

    Result<std::shared_ptr<Inode>> lookup(std::string_view name) override {
        int fd = TRY(parse_number(name));
        auto file = m_fs.processes.open_file(m_pid, fd);
        if (file.is_error())
            return Error(ENOENT, "no such file descriptor");
        return std::shared_ptr<Inode>(std::make_shared<FdLink>(m_fs, m_pid, fd));
    }
    Result<void> read_directory(uint64_t cookie, const DirectoryVisitor& visit) override {
        std::vector<int> fds = TRY(m_fs.processes.open_fds(m_pid));
        std::vector<std::pair<uint64_t, DirectoryEntry>> entries;
        for (int fd : fds)
            entries.push_back(
                {static_cast<uint64_t>(fd),
                 {std::to_string(fd), process_ino(m_pid, Kind::fd_link, fd), DT_LNK, 0}});
        return list_numbered_entries(std::move(entries), cookie, visit);
    }

protected:
    nlink_t link_count() override { return 2; }
};

// /proc/<pid>/task/<tid>/: one thread's name and state.
class TaskEntryDirectory final : public ProcessInode {
public:
    TaskEntryDirectory(ProcFileSystem& fs, pid_t pid, pid_t tid)
        : ProcessInode(fs, pid, Kind::task_entry, S_IFDIR | 0555, tid), m_tid(tid) {}

    Result<std::shared_ptr<Inode>> lookup(std::string_view name) override {
        ProcessInfo& processes = m_fs.processes;
        const pid_t pid = m_pid, tid = m_tid;
        auto status = [&processes, pid, tid] { return processes.thread_status(pid, tid); };
        if (name == "comm")
            return text_file(
                m_fs, process_ino(pid, Kind::task_comm, tid), 0644,
                [status]() -> Result<std::string> { return TRY(status()).name + "\n"; });
        if (name == "stat")
            return text_file(
                m_fs, process_ino(pid, Kind::task_stat, tid), 0444,
                [status]() -> Result<std::string> { return stat_text(TRY(status())); });
        if (name == "status")
            return text_file(
                m_fs, process_ino(pid, Kind::task_status, tid), 0444,
                [status]() -> Result<std::string> { return status_text(TRY(status())); });
        return Error(ENOENT, "no such file or directory");
    }
    Result<void> read_directory(uint64_t cookie, const DirectoryVisitor& visit) override {
        std::vector<DirectoryEntry> entries = {
            {"comm", process_ino(m_pid, Kind::task_comm, m_tid), DT_REG, 0},
            {"stat", process_ino(m_pid, Kind::task_stat, m_tid), DT_REG, 0},
            {"status", process_ino(m_pid, Kind::task_status, m_tid), DT_REG, 0},
        };
        return list_entries(entries, cookie, visit);
    }

protected:
    nlink_t link_count() override { return 2; }

private:
    pid_t m_tid;
};

// /proc/<pid>/task/: a directory per live thread.
class TaskDirectory final : public ProcessInode {
public:
    TaskDirectory(ProcFileSystem& fs, pid_t pid)
        : ProcessInode(fs, pid, Kind::task_directory, S_IFDIR | 0555) {}

    Result<std::shared_ptr<Inode>> lookup(std::string_view name) override {
        pid_t tid = TRY(parse_number(name));
        std::vector<pid_t> tids = TRY(m_fs.processes.thread_ids(m_pid));
        if (std::find(tids.begin(), tids.end(), tid) == tids.end())
            return Error(ENOENT, "no such thread");
        return std::shared_ptr<Inode>(std::make_shared<TaskEntryDirectory>(m_fs, m_pid, tid));
    }
    Result<void> read_directory(uint64_t cookie, const DirectoryVisitor& visit) override {
        std::vector<std::pair<uint64_t, DirectoryEntry>> entries;
        for (pid_t tid : TRY(m_fs.processes.thread_ids(m_pid)))
            entries.push_back(
                {static_cast<uint64_t>(tid),
                 {std::to_string(tid), process_ino(m_pid, Kind::task_entry, tid), DT_DIR, 0}});
        return list_numbered_entries(std::move(entries), cookie, visit);
    }

protected:
    nlink_t link_count() override { return 2; }
};

class ProcessDirectory final : public ProcessInode {
public:
    ProcessDirectory(ProcFileSystem& fs, pid_t pid)
        : ProcessInode(fs, pid, Kind::directory, S_IFDIR | 0555) {}

    Result<std::shared_ptr<Inode>> lookup(std::string_view name) override {
        ProcessInfo& processes = m_fs.processes;
        const pid_t pid = m_pid;
        auto ino = [pid](Kind kind) { return process_ino(pid, kind); };
        if (name == "cmdline")
            return text_file(m_fs, ino(Kind::cmdline), 0444,
                             [&processes, pid] { return processes.cmdline(pid); });
        if (name == "comm")
            return text_file(m_fs, ino(Kind::comm), 0644,
                             [&processes, pid]() -> Result<std::string> {
                                 return TRY(processes.status(pid)).name + "\n";
                             });
        if (name == "cwd")
            return symlink_to(m_fs, ino(Kind::cwd),
                              [&processes, pid] { return processes.cwd_path(pid); });
        if (name == "environ")
            return text_file(m_fs, ino(Kind::environ), 0400,
                             [&processes, pid] { return processes.environ(pid); });
        if (name == "exe")
            return symlink_to(m_fs, ino(Kind::exe),
                              [&processes, pid] { return processes.executable_path(pid); });
        if (name == "fd")
            return std::shared_ptr<Inode>(std::make_shared<FdDirectory>(m_fs, pid));
        if (name == "maps")
            return text_file(m_fs, ino(Kind::maps), 0444,
                             [&processes, pid] { return processes.maps(pid); });
        if (name == "mounts")
            return text_file(m_fs, ino(Kind::mounts), 0444,
                             [&fs = m_fs] { return fs.mounts_text(); });
        if (name == "root")
            return std::shared_ptr<Inode>(std::make_shared<RootLink>(m_fs, pid));
        if (name == "stat")
            return text_file(m_fs, ino(Kind::stat), 0444,
                             [&processes, pid]() -> Result<std::string> {
                                 return stat_text(TRY(processes.status(pid)));
                             });
        if (name == "status")
            return text_file(m_fs, ino(Kind::status), 0444,
                             [&processes, pid]() -> Result<std::string> {
                                 return status_text(TRY(processes.status(pid)));
                             });
        if (name == "task")
            return std::shared_ptr<Inode>(std::make_shared<TaskDirectory>(m_fs, pid));
        return Error(ENOENT, "no such file or directory");
    }

    Result<void> read_directory(uint64_t cookie, const DirectoryVisitor& visit) override {
        static constexpr std::pair<const char*, Kind> kEntries[] = {
            {"cmdline", Kind::cmdline}, {"comm", Kind::comm},     {"cwd", Kind::cwd},
            {"environ", Kind::environ}, {"exe", Kind::exe},       {"fd", Kind::fd_directory},
            {"maps", Kind::maps},       {"mounts", Kind::mounts}, {"root", Kind::root},
            {"stat", Kind::stat},       {"status", Kind::status}, {"task", Kind::task_directory},
        };
        std::vector<DirectoryEntry> entries;
        for (const auto& [name, kind] : kEntries) {
            uint8_t type = kind == Kind::fd_directory || kind == Kind::task_directory ? DT_DIR
                           : (kind == Kind::cwd || kind == Kind::exe || kind == Kind::root)
                               ? DT_LNK
                               : DT_REG;
            entries.push_back({name, process_ino(m_pid, kind), type, 0});
        }
        return list_entries(entries, cookie, visit);
    }

protected:
    nlink_t link_count() override { return 4; }
};

// /proc/sys/kernel/{hostname,domainname,ostype,osrelease,version}: what
// uname(2) tells, read when opened (sethostname(2) and setdomainname(2)
// change the first two). Read-only: the names change through those calls.
std::shared_ptr<Inode> system_directory(ProcFileSystem& fs, uint64_t& ino) {
    auto sys = std::make_shared<StaticDirectory>(fs, ino++, 0555);
    auto kernel = std::make_shared<StaticDirectory>(fs, ino++, 0555);
    using Field = std::string SystemNames::*;
    static constexpr std::pair<const char*, Field> kNames[] = {
        {"domainname", &SystemNames::domainname}, {"hostname", &SystemNames::hostname},
        {"osrelease", &SystemNames::osrelease},   {"ostype", &SystemNames::ostype},
        {"version", &SystemNames::version},
    };
    ProcessInfo& processes = fs.processes;
    for (const auto& [name, field] : kNames)
        kernel->add(name, text_file(fs, ino++, 0444, [&processes, field]() -> Result<std::string> {
                        return processes.system_names().*field + "\n";
                    }));
    sys->add("kernel", kernel);
    return sys;
}

class ProcRoot final : public SyntheticInode {
public:
    explicit ProcRoot(ProcFileSystem& fs) : SyntheticInode(fs, 1, S_IFDIR | 0555), m_fs(fs) {
        uint64_t ino = 2;
        ProcessInfo& processes = fs.processes;
        m_fixed.emplace_back("cpuinfo", text_file(fs, ino++, 0444, []() -> Result<std::string> {
                                 return std::string(
                                     "processor\t: 0\nvendor_id\t: myst\nmodel name\t: myst "
                                     "virtual CPU\ncpu cores\t: 1\nflags\t\t: fpu sse sse2\n\n");
                             }));
        m_fixed.emplace_back(
            "meminfo", text_file(fs, ino++, 0444, [&processes]() -> Result<std::string> {
                MemoryInfo info = processes.memory_info();
                auto line = [](const char* name, uint64_t bytes) {
                    char text[64];
                    std::snprintf(text, sizeof(text), "%-16s%8llu kB\n", name,
                                  static_cast<unsigned long long>(bytes / 1024));
                    return std::string(text);
                };
                return line("MemTotal:", info.total_bytes) +
                       line("MemFree:", info.available_bytes) +
                       line("MemAvailable:", info.available_bytes) + line("Buffers:", 0) +
                       line("Cached:", 0) + line("SwapTotal:", 0) + line("SwapFree:", 0);
            }));
        m_fixed.emplace_back("mounts", symlink_to(fs, ino++, []() -> Result<std::string> {
                                 return std::string("self/mounts");
                             }));
        m_fixed.emplace_back("self", symlink_to(fs, ino++, [&processes]() -> Result<std::string> {
                                 return std::to_string(processes.current_pid());
                             }));
        m_fixed.emplace_back("uptime", text_file(fs, ino++, 0444, [&fs]() -> Result<std::string> {
                                 struct timespec now = fs.clock();
                                 struct timespec birth = fs.birth();
                                 double seconds = static_cast<double>(now.tv_sec - birth.tv_sec) +
                                                  (now.tv_nsec - birth.tv_nsec) / 1e9;
                                 char text[64];
                                 std::snprintf(text, sizeof(text), "%.2f %.2f\n", seconds, seconds);
                                 return std::string(text);
                             }));
        m_fixed.emplace_back("sys", system_directory(fs, ino));
    }

    Result<std::shared_ptr<Inode>> lookup(std::string_view name) override {
        for (const auto& [fixed_name, inode] : m_fixed) {
            if (fixed_name == name)
                return inode;
        }
        pid_t pid = TRY(parse_number(name));
        if (m_fs.processes.status(pid).is_error())
            return Error(ENOENT, "no such process");
        return std::shared_ptr<Inode>(std::make_shared<ProcessDirectory>(m_fs, pid));
    }

    Result<void> read_directory(uint64_t cookie, const DirectoryVisitor& visit) override {
        std::vector<DirectoryEntry> entries;
        for (pid_t pid : m_fs.processes.pids())
            entries.push_back({std::to_string(pid), process_ino(pid, Kind::directory), DT_DIR, 0});
        for (const auto& [name, inode] : m_fixed)
            entries.push_back({name, inode->ino(), directory_entry_type(inode->type()), 0});
        return list_entries(entries, cookie, visit);
    }

protected:
    nlink_t link_count() override {
        return 3 + static_cast<nlink_t>(m_fs.processes.pids().size());  // with sys
    }

private:
    ProcFileSystem& m_fs;
    std::vector<std::pair<std::string, std::shared_ptr<Inode>>> m_fixed;
};

}  // namespace

std::shared_ptr<FileSystem> create_procfs(ProcessInfo& processes, const Vfs& vfs, Clock clock) {
    auto fs = std::make_shared<ProcFileSystem>(processes, vfs, std::move(clock));
    fs->set_root(std::make_shared<ProcRoot>(*fs));
    return fs;
}

}  // namespace myst::fs
