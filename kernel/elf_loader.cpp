#include "kernel/elf_loader.h"

#include <elf.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fs/vfs/open_file.h"
#include "kernel/process.h"

namespace myst::kernel {

namespace {

// How a taken fixed range is said, and read back (taken_fixed_address).
constexpr std::string_view range_taken_at = "needs memory at ";
constexpr std::string_view range_taken_words = " which is not free (";

struct ElfFile {
    const ExecutableFile& file;
    Elf64_Ehdr header{};
    std::vector<Elf64_Phdr> segments;
    std::string interpreter;  // PT_INTERP, empty when there is none
};

struct LoadedElf {
    uint64_t bias = 0;  // added to every p_vaddr
    uint64_t entry = 0;
    uint64_t program_headers = 0;  // where the program headers are in memory
    uint16_t program_header_count = 0;
    uint64_t end = 0;  // first page past the highest segment
    std::string interpreter;
};

Error not_executable(const std::string& path, const std::string& why) {
    return Error(ENOEXEC, path + ": " + why);
}

Result<ElfFile> parse_elf(const ExecutableFile& file) {
    ElfFile elf{file, {}, {}, {}};
    uint8_t identity[EI_NIDENT] = {};
    if (file.size < SELFMAG || file.read_at(0, std::span(identity).first(SELFMAG)).is_error() ||
        std::memcmp(identity, ELFMAG, SELFMAG) != 0)
        return not_executable(file.path, "not an ELF file");
    if (file.size < sizeof(Elf64_Ehdr))
        return not_executable(file.path, "truncated ELF header");
    TRY(file.read_at(0, {reinterpret_cast<uint8_t*>(&elf.header), sizeof elf.header}));
    const Elf64_Ehdr& h = elf.header;
    if (h.e_ident[EI_CLASS] != ELFCLASS64)
        return not_executable(file.path, "32-bit ELF; only x86-64 programs run");
    if (h.e_ident[EI_DATA] != ELFDATA2LSB || h.e_machine != EM_X86_64)
        return not_executable(file.path, "ELF for another machine; only x86-64 programs run");
    if (h.e_type != ET_EXEC && h.e_type != ET_DYN)
        return not_executable(file.path,
                              "ELF is not an executable (type " + std::to_string(h.e_type) + ")");
    if (h.e_phentsize != sizeof(Elf64_Phdr) || h.e_phnum == 0 || h.e_phnum > 256 ||
        h.e_phoff > file.size || h.e_phnum * sizeof(Elf64_Phdr) > file.size - h.e_phoff)
        return not_executable(file.path, "truncated or corrupt program headers");
    elf.segments.resize(h.e_phnum);
    TRY(file.read_at(h.e_phoff, {reinterpret_cast<uint8_t*>(elf.segments.data()),
                                 h.e_phnum * sizeof(Elf64_Phdr)}));
    bool loadable = false;
    for (const Elf64_Phdr& p : elf.segments) {
        if (p.p_type != PT_LOAD && p.p_type != PT_INTERP)
            continue;
        if (p.p_offset > file.size || p.p_filesz > file.size - p.p_offset)
            return not_executable(file.path,
                                  "truncated ELF: a segment lies past the end of the file");
        if (p.p_type == PT_INTERP) {
            if (p.p_filesz == 0 || p.p_filesz > 4096)
                return not_executable(file.path, "corrupt interpreter path");
            std::string interpreter(p.p_filesz, '\0');
            TRY(file.read_at(p.p_offset,
                             {reinterpret_cast<uint8_t*>(interpreter.data()), p.p_filesz}));
            elf.interpreter = interpreter.c_str();
            continue;
        }
        loadable = true;
        // A segment must end inside user memory, so that rounding its end up
        // to a page cannot wrap to 0 (found by fuzz/elf_fuzzer.cpp).
        if (p.p_filesz > p.p_memsz || p.p_memsz > user_address_end ||
            p.p_vaddr > user_address_end - p.p_memsz ||
            p.p_vaddr % page_size != p.p_offset % page_size)
            return not_executable(file.path, "corrupt loadable segment");
    }
    if (!loadable)
        return not_executable(file.path, "ELF has no loadable segment");
    return elf;
}

int protection_of(uint32_t flags) {
    return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
           (flags & PF_X ? PROT_EXEC : 0);
}

Result<LoadedElf> map_elf(MemoryManager& memory, const ElfFile& elf, SpaceId space) {
    uint64_t low = UINT64_MAX, high = 0;
    for (const Elf64_Phdr& p : elf.segments) {
        if (p.p_type != PT_LOAD)
            continue;
        low = std::min(low, page_align_down(p.p_vaddr));
        high = std::max(high, page_align_up(p.p_vaddr + p.p_memsz));
    }
    LoadedElf loaded;
    const std::string& path = elf.file.path;
    if (elf.header.e_type == ET_DYN) {
        uint64_t start = TRY(memory.map_anywhere(high - low, PROT_READ | PROT_WRITE, path, space));
        loaded.bias = start - low;
    } else {
        // As Linux's vm.mmap_min_addr and TASK_SIZE bound an ET_EXEC: one at
        // address 0 would take the page where a null pointer of the kernel's
        // own lands (found by fuzz/elf_fuzzer.cpp).
        if (low < min_map_address)
            return Error(EPERM, path + ": fixed-address executable wants memory below " +
                                    "mmap_min_addr (its lowest segment is at " +
                                    std::to_string(low) + ")");
        if (high > user_address_end)
            return Error(ENOMEM, path + ": fixed-address executable reaches past the top of " +
                                     "user memory");
        auto fixed = memory.map_fixed(low, high - low, PROT_READ | PROT_WRITE, path, false, space);
        if (fixed.is_error()) {
            char where[24];
            std::snprintf(where, sizeof where, "0x%lx", low);
            return Error(
                ENOMEM, path + ": fixed-address executable " + std::string(range_taken_at) + where +
                            std::string(range_taken_words) + fixed.error().message() + ")");
        }
    }
    // Segments are read straight into their pages, still writable here.
    for (const Elf64_Phdr& p : elf.segments)
        if (p.p_type == PT_LOAD)
            TRY(elf.file.read_at(
                p.p_offset, {reinterpret_cast<uint8_t*>(loaded.bias + p.p_vaddr), p.p_filesz}));
    loaded.interpreter = elf.interpreter;
    // Pages no segment covers stay inaccessible; each segment gets its own rights.
    TRY(memory.protect(loaded.bias + low, high - low, PROT_NONE));
    for (const Elf64_Phdr& p : elf.segments) {
        if (p.p_type != PT_LOAD)
            continue;
        uint64_t start = page_align_down(loaded.bias + p.p_vaddr);
        uint64_t end = page_align_up(loaded.bias + p.p_vaddr + p.p_memsz);
        TRY(memory.protect(start, end - start, protection_of(p.p_flags)));
        memory.set_name(start, end - start, path, page_align_down(p.p_offset));
    }
    loaded.entry = loaded.bias + elf.header.e_entry;
    loaded.end = loaded.bias + high;
    loaded.program_header_count = elf.header.e_phnum;
    for (const Elf64_Phdr& p : elf.segments)
        if (p.p_type == PT_PHDR)
            loaded.program_headers = loaded.bias + p.p_vaddr;
    for (const Elf64_Phdr& p : elf.segments)
        if (!loaded.program_headers && p.p_type == PT_LOAD && elf.header.e_phoff >= p.p_offset &&
            elf.header.e_phoff < p.p_offset + p.p_filesz)
            loaded.program_headers = loaded.bias + p.p_vaddr + (elf.header.e_phoff - p.p_offset);
    return loaded;
}

// Writes the initial stack top-down: strings, then the pointer block
// (argc, argv, NULL, envp, NULL, auxv) 16-byte aligned at the stack pointer.
class StackBuilder {
public:
    explicit StackBuilder(uint64_t top) : m_cursor(top) {}

    uint64_t push_bytes(const void* data, size_t size) {
        m_cursor -= size;
        std::memcpy(reinterpret_cast<void*>(m_cursor), data, size);
        return m_cursor;
    }
    uint64_t push_string(const std::string& text) {
        return push_bytes(text.c_str(), text.size() + 1);
    }

    uint64_t finish(const std::vector<uint64_t>& words) {
        m_cursor &= ~uint64_t(15);
        if (words.size() % 2)
            m_cursor -= 8;
        m_cursor -= words.size() * 8;
        std::memcpy(reinterpret_cast<void*>(m_cursor), words.data(), words.size() * 8);
        return m_cursor;
    }

private:
    uint64_t m_cursor;
};

Result<uint64_t> build_stack(MemoryManager& memory, const ExecRequest& request,
                             const LoadedElf& program, uint64_t interpreter_base) {
    // execve(2)'s E2BIG: strings and pointers may fill a quarter of the stack
    // (as on Linux); checked before anything is written below its top.
    uint64_t needed = request.random.size() + request.path.size() + 64 * 8;
    for (const std::string& text : request.arguments)
        needed += text.size() + 1 + 8;
    for (const std::string& text : request.environment)
        needed += text.size() + 1 + 8;
    if (needed > request.stack_size / 4)
        return Error(E2BIG, request.path + ": argument list too long");
    uint64_t bottom = TRY(
        memory.map_anywhere(request.stack_size, PROT_READ | PROT_WRITE, "[stack]", request.space));
    StackBuilder stack(bottom + request.stack_size);
    uint64_t random = stack.push_bytes(request.random.data(), request.random.size());
    uint64_t platform = stack.push_string("x86_64");
    uint64_t execfn = stack.push_string(request.path);
    std::vector<uint64_t> environment, arguments;
    for (const std::string& variable : request.environment)
        environment.push_back(stack.push_string(variable));
    for (const std::string& argument : request.arguments)
        arguments.push_back(stack.push_string(argument));

    std::vector<uint64_t> words{arguments.size()};
    words.insert(words.end(), arguments.begin(), arguments.end());
    words.push_back(0);
    words.insert(words.end(), environment.begin(), environment.end());
    words.push_back(0);
    auto aux = [&](uint64_t type, uint64_t value) {
        words.push_back(type);
        words.push_back(value);
    };
    if (request.vdso)
        aux(AT_SYSINFO_EHDR, request.vdso);
    aux(AT_PAGESZ, page_size);
    aux(AT_CLKTCK, 100);
    aux(AT_PHDR, program.program_headers);
    aux(AT_PHENT, sizeof(Elf64_Phdr));
    aux(AT_PHNUM, program.program_header_count);
    aux(AT_BASE, interpreter_base);
    aux(AT_FLAGS, 0);
    aux(AT_ENTRY, program.entry);
    aux(AT_UID, request.uid);
    aux(AT_EUID, request.euid);
    aux(AT_GID, request.gid);
    aux(AT_EGID, request.egid);
    aux(AT_SECURE, request.uid != request.euid || request.gid != request.egid);
    aux(AT_RANDOM, random);
    aux(AT_EXECFN, execfn);
    aux(AT_PLATFORM, platform);
    aux(AT_NULL, 0);
    return stack.finish(words);
}

}  // namespace

void set_identity(ExecRequest& request, const Credentials& ids) {
    request.uid = ids.uid, request.euid = ids.euid;
    request.gid = ids.gid, request.egid = ids.egid;
}

Result<void> ExecutableFile::read_at(uint64_t offset, std::span<uint8_t> buffer) const {
    uint64_t done = 0;
    while (done < buffer.size()) {
        size_t count = TRY(file->pread(buffer.subspan(done), offset + done));
        if (count == 0)
            return not_executable(path, "truncated ELF: the file ends early");
        done += count;
    }
    return {};
}

Result<LoadedProgram> load_program(MemoryManager& memory, const ExecutableReader& reader,
                                   const ExecRequest& request) {
    auto opened = reader(request.path);
    if (opened.is_error())
        return opened.release_error().with_context(request.path);
    ExecutableFile file = opened.release_value();
    ElfFile elf = TRY(parse_elf(file));
    LoadedElf program = TRY(map_elf(memory, elf, request.space));
    LoadedProgram result;
    result.executable_path = file.path;
    result.entry_point = program.entry;
    result.program_break = program.end;
    uint64_t interpreter_base = 0;
    if (!program.interpreter.empty()) {
        auto interpreter_file = reader(program.interpreter);
        if (interpreter_file.is_error())
            return interpreter_file.release_error().with_context(file.path + ": interpreter " +
                                                                 program.interpreter);
        ElfFile interpreter_elf = TRY(parse_elf(interpreter_file.value()));
        if (interpreter_elf.header.e_type != ET_DYN)
            return not_executable(program.interpreter, "interpreter is not position independent");
        LoadedElf interpreter = TRY(map_elf(memory, interpreter_elf, request.space));
        interpreter_base = interpreter.bias;
        result.entry_point = interpreter.entry;
    }
    result.stack_pointer = TRY(build_stack(memory, request, program, interpreter_base));
    return result;
}

std::optional<uint64_t> taken_fixed_address(const Error& error) {
    const std::string& message = error.message();
    size_t words = message.find(range_taken_words);
    if (error.code() != ENOMEM || words == std::string::npos)
        return std::nullopt;
    size_t at = message.rfind(range_taken_at, words);
    if (at == std::string::npos)
        return std::nullopt;
    return std::strtoull(message.c_str() + at + range_taken_at.size(), nullptr, 16);
}

uint64_t vdso_image_size(uintptr_t base) {
    if (base == 0)
        return 0;
    // The host's own vDSO, mapped by the host kernel: its headers are trusted
    // as much as the host kernel is.
    const auto* header = reinterpret_cast<const Elf64_Ehdr*>(base);
    if (std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 ||
        header->e_phentsize != sizeof(Elf64_Phdr))
        return 0;
    const auto* segments = reinterpret_cast<const Elf64_Phdr*>(base + header->e_phoff);
    uint64_t low = UINT64_MAX, high = 0;
    for (uint16_t i = 0; i < header->e_phnum; ++i) {
        if (segments[i].p_type != PT_LOAD)
            continue;
        low = std::min<uint64_t>(low, page_align_down(segments[i].p_vaddr));
        high = std::max<uint64_t>(high, segments[i].p_vaddr + segments[i].p_memsz);
    }
    return high > low ? page_align_up(high - low) : 0;
}

}  // namespace myst::kernel
