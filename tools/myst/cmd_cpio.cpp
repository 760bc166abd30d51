// `myst mkcpio` packs a directory into a CPIO newc archive (the ramfs root of
// an application); `myst excpio` unpacks one, refusing any entry that would
// land outside the target directory.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <tuple>
#include <utility>

#include "image/cpio.h"
#include "tools/myst/command.h"
#include "tools/myst/dir_scan.h"
#include "tools/myst/host_file.h"
#include "tools/myst/progress.h"

namespace myst::tools {

namespace {

// Below this size an archive is written or extracted too fast to need a
// progress line.
constexpr uint64_t kProgressThreshold = 16 << 20;
constexpr size_t kCopyChunk = 1 << 20;
constexpr size_t kMaxSymlinkTarget = 4095;  // PATH_MAX - 1

// Host errors already start with the path; add it only where it is missing.
Error in_file(const Error& error, const std::string& path) {
    if (error.message().starts_with(path + ": "))
        return error;
    return error.with_context(path);
}

std::function<void(uint64_t, uint64_t)> large_only(std::function<void(uint64_t, uint64_t)> show) {
    if (!show)
        return {};
    return [show = std::move(show)](uint64_t done, uint64_t total) {
        if (total >= kProgressThreshold)
            show(done, total);
    };
}

// ---- mkcpio ----

struct MkcpioArguments {
    std::string appdir;
    std::string image;
    bool force = false;
};

Result<void> make_cpio(const MkcpioArguments& args, ProgressLine& progress) {
    image::TreeNode tree = TRY(scan_directory(args.appdir));
    // Mystikos's mkcpio replaces the archive: its Makefiles run it on every
    // build. --force is accepted for scripts written for mkext2's rule.
    auto output = TRY(PendingOutput::create(args.image, /*overwrite=*/true));
    image::CpioWriteOptions options;
    options.progress = large_only(progress.stage("writing", "MiB"));
    TRY(image::write_cpio(tree, output->file(), options));
    return output->commit();
}

int run_mkcpio(const MkcpioArguments& args) {
    ProgressLine progress("myst mkcpio", true);
    auto result = make_cpio(args, progress);
    progress.finish();
    if (result.is_error())
        return report_failure("mkcpio", result.error());
    return 0;
}

// ---- excpio ----

class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) {}
    Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            m_fd = std::exchange(other.m_fd, -1);
        }
        return *this;
    }
    ~Fd() { reset(); }
    int get() const { return m_fd; }

private:
    void reset() {
        if (m_fd >= 0) {
            int saved = errno;  // callers report the errno of the call before
            ::close(m_fd);
            errno = saved;
        }
        m_fd = -1;
    }
    int m_fd;
};

using Components = std::vector<std::string>;

std::string join(const Components& components, size_t count) {
    std::string path;
    for (size_t i = 0; i < count; ++i)
        path += (i ? "/" : "") + components[i];
    return path.empty() ? "." : path;
}

struct ExcpioArguments {
    std::string image;
    std::string dir;
    bool force = false;
};

// A directory's mode and times are set after its contents are written: a
// read-only directory could not be filled, and adding entries would change
// its mtime again.
struct DeferredDirectory {
    Components components;
    const image::CpioEntry* entry;
};

class Extractor {
public:
    Extractor(const ExcpioArguments& args, image::RandomAccessFile& archive, Fd root)
        : m_args(args), m_archive(archive), m_root(std::move(root)) {}

    Result<void> extract(const image::CpioEntry& entry, const Components& components,
                         const std::function<void(uint64_t)>& progress);
    Result<void> finish_directories();

private:
    std::string display(const Components& components) const {
        return m_args.dir + "/" + join(components, components.size());
    }
    Result<Fd> resolve(const Components& components, size_t count);
    Result<Fd> open_parent(const Components& components);
    Result<void> remove_existing(int parent, const std::string& name, bool keep_directory,
                                 const std::string& path);
    Result<void> write_data(int fd, const image::CpioEntry& entry, const std::string& path,
                            const std::function<void(uint64_t)>& progress);
    Result<void> set_metadata(int parent, const std::string& name, const image::CpioEntry& entry,
                              const std::string& path);
    Result<bool> extract_regular(int parent, const std::string& name, const image::CpioEntry& entry,
                                 const Components& components,
                                 const std::function<void(uint64_t)>& progress);

    const ExcpioArguments& m_args;
    image::RandomAccessFile& m_archive;
    Fd m_root;
    bool m_is_root_user = ::geteuid() == 0;
    std::vector<DeferredDirectory> m_directories;
    // newc hard links share (dev, ino): later links become links to the first.
    std::map<std::tuple<uint32_t, uint32_t, uint32_t>, Components> m_links;
    std::vector<uint8_t> m_chunk;
};

// Opens the directory named by the first `count` components, resolved inside
// the extraction directory only: a symlink extracted earlier (absolute, or
// with enough "..") cannot take a later entry outside.
Result<Fd> Extractor::resolve(const Components& components, size_t count) {
    std::string path = join(components, count);
    struct open_how how {};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, m_root.get(), path.c_str(), &how, sizeof how);
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
        // No openat2 (old kernel, seccomp): follow no symlink at all.
        Fd current(::fcntl(m_root.get(), F_DUPFD_CLOEXEC, 0));
        for (size_t i = 0; i < count && current.get() >= 0; ++i)
            current = Fd(::openat(current.get(), components[i].c_str(),
                                  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        fd = current.get() >= 0 ? ::fcntl(current.get(), F_DUPFD_CLOEXEC, 0) : -1;
    }
    if (fd >= 0)
        return Fd(static_cast<int>(fd));
    if (errno == EXDEV || errno == ELOOP)
        return Error(EXDEV, display(Components(components.begin(), components.begin() + count)) +
                                ": goes through a symlink that leads outside " + m_args.dir +
                                " (refusing to extract)");
    return Error::from_errno(errno,
                             display(Components(components.begin(), components.begin() + count)));
}

// The directory the entry goes in; missing leading directories are created,
// as `cpio -d` does.
Result<Fd> Extractor::open_parent(const Components& components) {
    auto parent = resolve(components, components.size() - 1);
    if (!parent.is_error() || parent.error().code() != ENOENT)
        return parent;
    for (size_t i = 1; i < components.size(); ++i) {
        auto existing = resolve(components, i);
        if (!existing.is_error())
            continue;
        if (existing.error().code() != ENOENT)
            return existing.release_error();
        Fd above = TRY(resolve(components, i - 1));
        if (::mkdirat(above.get(), components[i - 1].c_str(), 0755) != 0 && errno != EEXIST)
            return Error::from_errno(
                errno, display(Components(components.begin(), components.begin() + i)));
    }
    return resolve(components, components.size() - 1);
}

// A later entry replaces an earlier one of the same name (or a file already
// there with --force); an existing directory is kept for a directory entry.
Result<void> Extractor::remove_existing(int parent, const std::string& name, bool keep_directory,
                                        const std::string& path) {
    struct stat st {};
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? Result<void>{} : Error::from_errno(errno, path);
    if (S_ISDIR(st.st_mode) && keep_directory)
        return {};
    if (::unlinkat(parent, name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0)
        return Error::from_errno(errno, path);
    return {};
}

Result<void> Extractor::write_data(int fd, const image::CpioEntry& entry, const std::string& path,
                                   const std::function<void(uint64_t)>& progress) {
    uint32_t sum = 0;
    for (uint64_t done = 0; done < entry.data_size;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(kCopyChunk, entry.data_size - done));
        m_chunk.resize(n);
        TRY(m_archive.read_at(entry.data_offset + done, m_chunk));
        for (uint8_t byte : m_chunk)
            sum += byte;
        for (size_t written = 0; written < n;) {
            ssize_t w = ::write(fd, m_chunk.data() + written, n - written);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return Error::from_errno(errno, path);
            written += static_cast<size_t>(w);
        }
        done += n;
        progress(n);
    }
    if (entry.has_checksum && sum != entry.checksum)
        return Error(EIO, path + ": data does not match the archive's checksum");
    return {};
}

Result<void> Extractor::set_metadata(int parent, const std::string& name,
                                     const image::CpioEntry& entry, const std::string& path) {
    const char* at = name.empty() ? "." : name.c_str();
    // chown first: it clears the setuid and setgid bits that chmod then sets.
    if (m_is_root_user && ::fchownat(parent, at, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0)
        return Error::from_errno(errno, path);
    if ((entry.mode & S_IFMT) != S_IFLNK && ::fchmodat(parent, at, entry.mode & 07777, 0) != 0)
        return Error::from_errno(errno, path);
    struct timespec times[2] = {{static_cast<time_t>(entry.mtime), 0},
                                {static_cast<time_t>(entry.mtime), 0}};
    if (::utimensat(parent, at, times, AT_SYMLINK_NOFOLLOW) != 0)
        return Error::from_errno(errno, path);
    return {};
}

// Returns whether the file is complete (false: it is a hard link whose data
// comes with a later entry, or already came).
Result<bool> Extractor::extract_regular(int parent, const std::string& name,
                                        const image::CpioEntry& entry, const Components& components,
                                        const std::function<void(uint64_t)>& progress) {
    std::string path = display(components);
    auto key = std::make_tuple(entry.dev_major, entry.dev_minor, entry.ino);
    auto link = entry.nlink > 1 ? m_links.find(key) : m_links.end();
    int flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC;
    if (link != m_links.end()) {
        const Components& first = link->second;
        Fd first_parent = TRY(resolve(first, first.size() - 1));
        if (::linkat(first_parent.get(), first.back().c_str(), parent, name.c_str(), 0) != 0)
            return Error::from_errno(errno, path);
        flags |= O_TRUNC;
    } else {
        flags |= O_CREAT | O_EXCL;
        if (entry.nlink > 1)
            m_links.emplace(key, components);
    }
    if (link != m_links.end() && entry.data_size == 0)
        return false;
    Fd fd(::openat(parent, name.c_str(), flags, 0600));
    if (fd.get() < 0)
        return Error::from_errno(errno, path);
    TRY(write_data(fd.get(), entry, path, progress));
    return true;
}

Result<void> Extractor::extract(const image::CpioEntry& entry, const Components& components,
                                const std::function<void(uint64_t)>& progress) {
    uint32_t type = entry.mode & S_IFMT;
    if (components.empty()) {
        if (type != S_IFDIR)
            return Error::invalid(entry.name + ": the root entry is not a directory");
        m_directories.push_back({components, &entry});
        return {};
    }
    std::string path = display(components);
    Fd parent = TRY(open_parent(components));
    const std::string& name = components.back();
    TRY(remove_existing(parent.get(), name, type == S_IFDIR, path));

    switch (type) {
        case S_IFDIR:
            if (::mkdirat(parent.get(), name.c_str(), 0700) != 0 && errno != EEXIST)
                return Error::from_errno(errno, path);
            m_directories.push_back({components, &entry});
            return {};
        case S_IFREG:
            if (!TRY(extract_regular(parent.get(), name, entry, components, progress)))
                return {};
            break;
        case S_IFLNK: {
            if (entry.data_size == 0 || entry.data_size > kMaxSymlinkTarget)
                return Error::invalid(path + ": symlink target of " +
                                      std::to_string(entry.data_size) + " bytes");
            std::string target(entry.data_size, '\0');
            TRY(m_archive.read_at(
                entry.data_offset,
                std::span(reinterpret_cast<uint8_t*>(target.data()), target.size())));
            if (target.find('\0') != std::string::npos)
                return Error::invalid(path + ": symlink target contains a NUL byte");
            if (::symlinkat(target.c_str(), parent.get(), name.c_str()) != 0)
                return Error::from_errno(errno, path);
            break;
        }
        case S_IFCHR:
        case S_IFBLK:
            if (!m_is_root_user) {
                std::cerr << "myst excpio: warning: " << path
                          << ": device node skipped (creating it needs root)\n";
                return {};
            }
            if (::mknodat(parent.get(), name.c_str(), type | 0600,
                          makedev(entry.rdev_major, entry.rdev_minor)) != 0) {
                if (errno != EPERM)
                    return Error::from_errno(errno, path);
                std::cerr << "myst excpio: warning: " << path
                          << ": device node skipped (mknod not permitted here)\n";
                return {};
            }
            break;
        case S_IFIFO:
        case S_IFSOCK:
            if (::mknodat(parent.get(), name.c_str(), type | 0600, 0) != 0)
                return Error::from_errno(errno, path);
            break;
        default:
            return Error::invalid(path + ": unknown file type");
    }
    return set_metadata(parent.get(), name, entry, path);
}

Result<void> Extractor::finish_directories() {
    // Deepest last-created first, so no directory is made read-only before
    // the ones below it are done.
    for (auto it = m_directories.rbegin(); it != m_directories.rend(); ++it) {
        const Components& components = it->components;
        std::string path = display(components);
        if (components.empty()) {
            TRY(set_metadata(m_root.get(), "", *it->entry, path));
            continue;
        }
        Fd parent = TRY(resolve(components, components.size() - 1));
        struct stat st {};
        // A later entry of the same name may have replaced the directory.
        if (::fstatat(parent.get(), components.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode))
            continue;
        TRY(set_metadata(parent.get(), components.back(), *it->entry, path));
    }
    return {};
}

// The target directory is created if missing; an existing one must be empty
// unless --force, so that a typo cannot scatter files into a full directory.
Result<Fd> prepare_directory(const ExcpioArguments& args) {
    namespace fs = std::filesystem;
    std::error_code error;
    fs::file_status status = fs::symlink_status(args.dir, error);
    if (fs::exists(status)) {
        if (!fs::is_directory(fs::status(args.dir, error)))
            return Error(ENOTDIR, args.dir + ": exists and is not a directory");
        bool empty = fs::is_empty(args.dir, error);
        if (error)
            return Error(error.value(), args.dir + ": " + error.message());
        if (!empty && !args.force)
            return Error(EEXIST, args.dir +
                                     ": directory is not empty (use --force to extract "
                                     "into it)");
    } else if (!fs::create_directories(args.dir, error) && error) {
        return Error(error.value(), args.dir + ": " + error.message());
    }
    int fd = ::open(args.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno(errno, args.dir);
    return Fd(fd);
}

Result<void> extract_cpio(const ExcpioArguments& args, ProgressLine& progress) {
    auto archive = TRY(HostFile::open_read(args.image));
    auto parsed = image::read_cpio_entries(*archive);
    if (parsed.is_error())
        return in_file(parsed.error(), args.image);
    const std::vector<image::CpioEntry>& entries = parsed.value();

    // Every name is checked before anything is written, so an archive with
    // an absolute or ".." name leaves no trace.
    std::vector<Components> names;
    uint64_t total = 0;
    for (const image::CpioEntry& entry : entries) {
        auto components = image::cpio_name_components(entry.name);
        if (components.is_error())
            return in_file(components.error(), args.image);
        names.push_back(components.release_value());
        if ((entry.mode & S_IFMT) == S_IFREG)
            total += entry.data_size;
    }

    Extractor extractor(args, *archive, TRY(prepare_directory(args)));
    auto show = large_only(progress.stage("extracting", "MiB"));
    uint64_t done = 0;
    std::function<void(uint64_t)> advance = [&](uint64_t bytes) {
        done += bytes;
        if (show)
            show(done, total);
    };
    for (size_t i = 0; i < entries.size(); ++i)
        TRY(extractor.extract(entries[i], names[i], advance));
    return extractor.finish_directories();
}

int run_excpio(const ExcpioArguments& args) {
    ProgressLine progress("myst excpio", true);
    auto result = extract_cpio(args, progress);
    progress.finish();
    if (result.is_error())
        return report_failure("excpio", result.error());
    return 0;
}

}  // namespace

Command add_mkcpio_command(CLI::App& parent) {
    auto args = std::make_shared<MkcpioArguments>();
    CLI::App* app =
        parent.add_subcommand("mkcpio", "Make a CPIO (newc) archive of a directory, for ramfs");
    app->footer(
        "Make a CPIO archive of <appdir> in the \"newc\" format that 'cpio -H newc' writes\n"
        "and the ramfs root of an application is loaded from. Entries keep their modes,\n"
        "owners, mtimes and symlink targets (hard links become separate copies); the same\n"
        "directory contents always give the same bytes. An existing archive is replaced\n"
        "(as Mystikos's mkcpio does); on any error it is left as it was.\n\n"
        "Examples:\n"
        "  myst mkcpio appdir rootfs.cpio\n"
        "  cpio -itv < rootfs.cpio");
    app->add_option("appdir", args->appdir, "Directory to archive")->required();
    app->add_option("cpioimage", args->image, "Archive file to write")->required();
    app->add_flag("--force,-f", args->force,
                  "Overwrite an existing archive (the default; accepted for scripts)");
    return {app, [args] { return run_mkcpio(*args); }};
}

Command add_excpio_command(CLI::App& parent) {
    auto args = std::make_shared<ExcpioArguments>();
    CLI::App* app =
        parent.add_subcommand("excpio", "Extract a CPIO (newc) archive into a directory");
    app->footer(
        "Extract the CPIO newc archive <cpioimage> into <dir>, which is created if missing\n"
        "and must be empty unless --force. Files, directories, symlinks and fifos are\n"
        "restored with their modes and mtimes (owners too when run as root; device nodes\n"
        "only as root). An entry with an absolute name, a \"..\" component, or a path\n"
        "through a symlink leading outside <dir> is refused, so a hostile archive\n"
        "cannot write anywhere else.\n\n"
        "Examples:\n"
        "  myst excpio rootfs.cpio rootfs\n"
        "  myst excpio --force rootfs.cpio existing-dir");
    app->add_option("cpioimage", args->image, "Archive to read")->required();
    app->add_option("dir", args->dir, "Directory to extract into")->required();
    app->add_flag("--force,-f", args->force, "Extract into a directory that is not empty");
    return {app, [args] { return run_excpio(*args); }};
}

}  // namespace myst::tools
