// Unpacked image trees on the host: file contents kept in a staging
// directory while layers are read, and a finished tree written out as a
// directory (an appdir) with its modes, owners (when root), times, symlinks
// and hard links.
#pragma once

#include <string>

#include "image/layer_merge.h"

namespace myst::tools {

// Each regular file's bytes go to <directory>/<n>, a file of its own.
class StagedContentStore final : public image::ContentStore {
public:
    explicit StagedContentStore(std::string directory) : m_directory(std::move(directory)) {}
    Result<std::shared_ptr<const image::FileContent>> store(image::TarReader& reader,
                                                            uint64_t size) override;

private:
    std::string m_directory;
    uint64_t m_next = 0;
    std::vector<uint8_t> m_chunk;
};

struct DirectoryWriteNotes {
    uint64_t skipped_devices = 0;  // device nodes mknod refused (not root, or a container)
    bool owners_kept = false;
};

// Creates `path` (which must not exist) holding the tree. Staged contents are
// moved into place (renamed: `path` must be on the staging file system), other
// contents copied. The tree's names are single components, so nothing is
// written outside `path`.
Result<DirectoryWriteNotes> write_tree_to_directory(const image::TreeNode& root,
                                                    const std::string& path);

// A directory removed with everything in it when this goes out of scope.
class ScratchDirectory {
public:
    // mkdtemp("<prefix>XXXXXX").
    static Result<std::unique_ptr<ScratchDirectory>> create(const std::string& prefix);
    ~ScratchDirectory();
    const std::string& path() const { return m_path; }

private:
    explicit ScratchDirectory(std::string path) : m_path(std::move(path)) {}
    std::string m_path;
};

}  // namespace myst::tools
