// The ELF loader (load_program) on a mutated executable in a ramfs, with
// the program's memory of a real MemoryManager, released after each input.
// The input is also installed as both usual interpreters, so that a
// PT_INTERP naming one loads an ELF file the fuzzer shaped too.
#include <fcntl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fs/ramfs/ramfs.h"
#include "fs/vfs/open_file.h"
#include "fs/vfs/vfs.h"
#include "kernel/elf_loader.h"
#include "target/linux_target.h"

namespace {

using namespace myst;

constexpr const char* kProgram = "/bin/prog";
constexpr const char* kInterpreters[] = {"/lib64/ld-linux-x86-64.so.2", "/lib/ld-musl-x86_64.so.1"};

struct Loader {
    Loader() {
        vfs = fs::Vfs::create(fs::create_ramfs(fs::fixed_clock({0, 0})), fs::fixed_clock({0, 0}))
                  .release_value();
        for (const char* dir : {"/bin", "/lib64", "/lib"})
            (void)vfs->make_directory(vfs->root_lookup(), dir, 0755);
        memory = kernel::MemoryManager::create(target, uint64_t(64) << 20).release_value();
    }

    void install(const char* path, std::span<const uint8_t> bytes) {
        auto file = vfs->open(vfs->root_lookup(), path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
        if (file.is_error() || file.value()->write(bytes).is_error())
            __builtin_trap();
    }

    // What kernel/fs_context.cpp's open_executable does, on this VFS.
    Result<kernel::ExecutableFile> open_executable(const std::string& path) {
        fs::PathRef node = TRY(vfs->resolve(vfs->root_lookup(), path));
        struct stat st = TRY(node->inode()->stat());
        if (!S_ISREG(st.st_mode))
            return Error(EACCES, path + ": not a regular file");
        auto file = TRY(node->inode()->open(node, O_RDONLY));
        return kernel::ExecutableFile{path, static_cast<uint64_t>(st.st_size), std::move(file)};
    }

    LinuxTarget target;
    std::unique_ptr<fs::Vfs> vfs;
    std::unique_ptr<kernel::MemoryManager> memory;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Loader loader;
    if (size > (size_t(2) << 20))
        return -1;
    std::span<const uint8_t> bytes(data, size);
    loader.install(kProgram, bytes);
    for (const char* interpreter : kInterpreters)
        loader.install(interpreter, bytes);

    kernel::ExecRequest request;
    request.path = kProgram;
    request.arguments = {kProgram, "-x"};
    request.environment = {"HOME=/"};
    request.stack_size = uint64_t(1) << 20;
    auto loaded = kernel::load_program(
        *loader.memory, [](const std::string& path) { return loader.open_executable(path); },
        request);
    (void)loaded;
    loader.memory->release_space(kernel::first_space);
    return 0;
}
