// Loads an ELF program and its interpreter (PT_INTERP, read from the image,
// never from the host) into the program's memory and builds its initial
// stack (argc, argv, envp, auxv) as Linux does for execve.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "kernel/memory_manager.h"

namespace myst::fs {
class OpenFile;
}

namespace myst::kernel {

struct ExecutableFile {
    std::string path;  // absolute path inside the image
    uint64_t size = 0;
    std::shared_ptr<fs::OpenFile> file;  // open for reading

    // Exactly buffer.size() bytes at offset; ENOEXEC when the file is shorter.
    Result<void> read_at(uint64_t offset, std::span<uint8_t> buffer) const;
};

// Resolves a path in the program's file system and reads the whole file;
// ENOENT when absent, EACCES when not an executable regular file.
using ExecutableReader = std::function<Result<ExecutableFile>(const std::string& path)>;

struct ExecRequest {
    std::string path;                      // as given (AT_EXECFN)
    std::vector<std::string> arguments;    // argv
    std::vector<std::string> environment;  // "K=V"
    uint64_t stack_size = 8ull << 20;
    uintptr_t vdso = 0;                // host vDSO for AT_SYSINFO_EHDR, or 0
    std::array<uint8_t, 16> random{};  // AT_RANDOM bytes
    // AT_UID/AT_EUID/AT_GID/AT_EGID; AT_SECURE is set when they differ.
    uid_t uid = 0, euid = 0;
    gid_t gid = 0, egid = 0;
    // Whose memory the image is (MemoryManager spaces); on failure the
    // caller releases what was mapped there.
    SpaceId space = first_space;
};

struct Credentials;  // kernel/process.h
// The ids a process execs with, for the auxiliary vector.
void set_identity(ExecRequest& request, const Credentials& ids);

struct LoadedProgram {
    uint64_t entry_point = 0;     // the interpreter's entry when there is one
    uint64_t stack_pointer = 0;   // points at argc
    std::string executable_path;  // resolved path of the program
    uint64_t program_break = 0;   // first byte past the executable's highest segment
};

// Errors carry errno values a shell would map: ENOENT (no such program),
// EACCES, ENOEXEC (not an ELF, 32-bit, not x86-64, truncated), ENOMEM.
// `#!` scripts are execve's to resolve first (resolve_script below).
Result<LoadedProgram> load_program(MemoryManager& memory, const ExecutableReader& reader,
                                   const ExecRequest& request);
// Where load_program failed because a fixed-address (ET_EXEC) program's
// range is taken: the range's first address, else none. exec may then take
// turns on that range with whoever holds it (kernel/memory_image.h).
std::optional<uint64_t> taken_fixed_address(const Error& error);

// The bytes the vDSO image at `base` (AT_SYSINFO_EHDR) spans, from its
// PT_LOAD headers; 0 when there is none. The [vvar] pages before it are not
// counted: some of them (pvclock, hvclock) fault when the host has no such
// clock, and the kernel must never copy from a page that can fault.
uint64_t vdso_image_size(uintptr_t base);

}  // namespace myst::kernel
