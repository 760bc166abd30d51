// AES-256-XTS sector encryption (dm-crypt's aes-xts-plain64) built on
// OpenSSL's AES-256-ECB.
//
// OpenSSL's own XTS needs an IV set-up through EVP per 512-byte sector, which
// costs more than the sector's AES work. XTS is simple enough to run
// over a whole run of sectors instead: for the 16-byte block i of sector n,
//   C = E_K1(P xor T_i) xor T_i,  T_0 = E_K2(n as 16 bytes little-endian),
//   T_{i+1} = T_i * x in GF(2^128) (little-endian, reduction 0x87).
// So one ECB call (K2) gives the tweaks of up to 256 sectors, doubling gives
// their 32 block tweaks each, and one ECB call (K1) does 16 sectors of data
// between two XOR passes with those block tweaks.
// 512-byte sectors are whole AES blocks, so there is no ciphertext stealing.
#include <algorithm>
#include <cerrno>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <immintrin.h>  // SSE2 and AVX2; myst is x86-64 only

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "image/luks1.h"

namespace myst::image {

namespace {

constexpr size_t aes_block_size = 16;
constexpr size_t blocks_per_sector = luks1_sector_size / aes_block_size;
// Sectors per ECB call on the data: the chunk and its block tweaks stay in
// the L1 cache between the XOR passes and the AES pass.
constexpr size_t chunk_sectors = 16;
// Sectors whose tweaks one ECB call (K2) computes.
constexpr size_t group_sectors = 256;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext new_context() {
    return CipherContext(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
}

// OpenSSL keeps the reason of a failure in its thread-local error queue.
Error openssl_error(const std::string& what) {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    const char* reason = code ? ERR_reason_error_string(code) : nullptr;
    return Error(EIO, "OpenSSL aes-256-xts: " + what + ": " + (reason ? reason : "unknown error"));
}

Result<CipherContext> keyed_ecb(const EVP_CIPHER* ecb, const uint8_t* key, bool encrypt) {
    CipherContext context = new_context();
    if (!context)
        return Error(ENOMEM, "OpenSSL aes-256-xts: out of memory");
    if (EVP_CipherInit_ex2(context.get(), ecb, key, nullptr, encrypt ? 1 : 0, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(context.get(), 0) != 1)
        return openssl_error("key set-up failed");
    return context;
}

Result<CipherContext> copy_context(const CipherContext& keyed) {
    CipherContext context = new_context();
    if (!context)
        return Error(ENOMEM, "OpenSSL aes-256-xts: out of memory");
    if (EVP_CIPHER_CTX_copy(context.get(), keyed.get()) != 1)
        return openssl_error("context copy failed");
    return context;
}

// ECB over whole blocks, in place.
Result<void> run_ecb(EVP_CIPHER_CTX* context, uint8_t* data, size_t size) {
    int written = 0;
    if (EVP_CipherUpdate(context, data, &written, data, static_cast<int>(size)) != 1 ||
        written != static_cast<int>(size))
        return openssl_error("AES-256-ECB failed");
    return {};
}

// The tweaks are secret (they derive from K2), so they are handled with
// constant-time vector arithmetic, never through lookup tables. SSE2 is part
// of x86-64; AVX2, when the CPU has it, does two blocks per instruction.
__m128i load_block(const uint8_t* bytes) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
}

void store_block(uint8_t* bytes, __m128i value) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(bytes), value);
}

// Multiplies by x in GF(2^128), the 128-bit value read as little-endian:
// shift left by one and fold the bit shifted out at the top back in as
// x^7 + x^2 + x + 1 (0x87). The top bit of the low 64-bit half moves into
// the high half through the same mask. The AVX2 form does this to each of
// its two 128-bit lanes.
__m128i times_x(__m128i tweak) {
    // The sign bits of 32-bit lanes 3 (top of the value) and 1 (top of the
    // low half), spread over lanes 0 and 2 as all-ones masks.
    const __m128i carries = _mm_srai_epi32(_mm_shuffle_epi32(tweak, 0x13), 31);
    const __m128i fold = _mm_set_epi32(0, 1, 0, 0x87);
    return _mm_xor_si128(_mm_add_epi64(tweak, tweak), _mm_and_si128(carries, fold));
}

[[gnu::target("avx2")]] __m256i times_x(__m256i tweaks) {
    const __m256i carries = _mm256_srai_epi32(_mm256_shuffle_epi32(tweaks, 0x13), 31);
    const __m256i fold = _mm256_set_epi32(0, 1, 0, 0x87, 0, 1, 0, 0x87);
    return _mm256_xor_si256(_mm256_add_epi64(tweaks, tweaks), _mm256_and_si256(carries, fold));
}

// The pass before the AES, for `Group` sectors side by side (independent
// doubling chains keep the CPU busy): writes the 32 block tweaks of each
// sector, from its encrypted sector number on, and XORs them into the data.
template <size_t Group>
void spread_tweaks(const uint8_t* sector_tweaks, uint8_t* block_tweaks, uint8_t* data) {
    __m128i tweak[Group];
    for (size_t s = 0; s < Group; ++s)
        tweak[s] = load_block(sector_tweaks + s * aes_block_size);
    for (size_t i = 0; i < blocks_per_sector; ++i) {
#pragma GCC unroll 4
        for (size_t s = 0; s < Group; ++s) {
            size_t offset = s * luks1_sector_size + i * aes_block_size;
            store_block(block_tweaks + offset, tweak[s]);
            store_block(data + offset, _mm_xor_si128(load_block(data + offset), tweak[s]));
            tweak[s] = times_x(tweak[s]);
        }
    }
}

// The same for four sectors with AVX2: each register holds the tweaks of
// two neighbouring blocks, so it steps by x^2.
[[gnu::target("avx2")]] void spread_tweaks_avx2(const uint8_t* sector_tweaks, uint8_t* block_tweaks,
                                                uint8_t* data) {
    constexpr size_t group = 4;
    static_assert(blocks_per_sector % 2 == 0);
    __m256i tweaks[group];
    for (size_t s = 0; s < group; ++s) {
        __m128i first = load_block(sector_tweaks + s * aes_block_size);
        tweaks[s] = _mm256_set_m128i(times_x(first), first);
    }
    for (size_t i = 0; i < blocks_per_sector; i += 2) {
        // Unrolled, the tweaks stay in registers.
#pragma GCC unroll 4
        for (size_t s = 0; s < group; ++s) {
            size_t offset = s * luks1_sector_size + i * aes_block_size;
            auto* tweak_out = reinterpret_cast<__m256i*>(block_tweaks + offset);
            auto* pair = reinterpret_cast<__m256i*>(data + offset);
            _mm256_storeu_si256(tweak_out, tweaks[s]);
            _mm256_storeu_si256(pair, _mm256_xor_si256(_mm256_loadu_si256(pair), tweaks[s]));
            tweaks[s] = times_x(times_x(tweaks[s]));
        }
    }
}

// The pass after the AES: XORs the stored block tweaks in again.
void xor_tweaks(uint8_t* data, const uint8_t* tweaks, size_t size) {
    for (size_t offset = 0; offset < size; offset += aes_block_size)
        store_block(data + offset,
                    _mm_xor_si128(load_block(data + offset), load_block(tweaks + offset)));
}

[[gnu::target("avx2")]] void xor_tweaks_avx2(uint8_t* data, const uint8_t* tweaks, size_t size) {
    for (size_t offset = 0; offset < size; offset += 2 * aes_block_size) {
        auto* pair = reinterpret_cast<__m256i*>(data + offset);
        __m256i tweak = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tweaks + offset));
        _mm256_storeu_si256(pair, _mm256_xor_si256(_mm256_loadu_si256(pair), tweak));
    }
}

bool cpu_has_avx2() {
    // Also checks that the OS saves the AVX registers.
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

// XTS over `count` sectors of `data` (at most chunk_sectors) whose encrypted
// sector numbers are in sector_tweaks. With AVX2, whole groups of four
// sectors take the AVX2 passes and the rest the SSE2 ones (so the unit tests,
// with sector counts that are not multiples of four, check both).
Result<void> run_chunk(EVP_CIPHER_CTX* cipher, bool use_avx2, const uint8_t* sector_tweaks,
                       uint8_t* block_tweaks, uint8_t* data, size_t count) {
    const size_t wide = use_avx2 ? count / 4 * 4 : 0;
    for (size_t s = 0; s < wide; s += 4)
        spread_tweaks_avx2(sector_tweaks + s * aes_block_size, block_tweaks + s * luks1_sector_size,
                           data + s * luks1_sector_size);
    size_t s = wide;
    for (; s + 4 <= count; s += 4)
        spread_tweaks<4>(sector_tweaks + s * aes_block_size, block_tweaks + s * luks1_sector_size,
                         data + s * luks1_sector_size);
    for (; s < count; ++s)
        spread_tweaks<1>(sector_tweaks + s * aes_block_size, block_tweaks + s * luks1_sector_size,
                         data + s * luks1_sector_size);
    TRY(run_ecb(cipher, data, count * luks1_sector_size));
    const size_t wide_bytes = wide * luks1_sector_size;
    if (wide_bytes != 0)
        xor_tweaks_avx2(data, block_tweaks, wide_bytes);
    xor_tweaks(data + wide_bytes, block_tweaks + wide_bytes,
               count * luks1_sector_size - wide_bytes);
    return {};
}

}  // namespace

// What one call needs to itself: its own copies of the keyed contexts
// (EVP_CipherUpdate may write to a context) and the tweak buffers.
struct XtsSectorCipher::Workspace {
    CipherContext data_encrypt{nullptr, EVP_CIPHER_CTX_free};
    CipherContext data_decrypt{nullptr, EVP_CIPHER_CTX_free};
    CipherContext tweak_encrypt{nullptr, EVP_CIPHER_CTX_free};
    std::vector<uint8_t> sector_tweaks = std::vector<uint8_t>(group_sectors * aes_block_size);
    std::vector<uint8_t> block_tweaks = std::vector<uint8_t>(chunk_sectors * luks1_sector_size);

    ~Workspace() {
        // Tweaks are derived from the key; do not leave them in freed memory.
        OPENSSL_cleanse(sector_tweaks.data(), sector_tweaks.size());
        OPENSSL_cleanse(block_tweaks.data(), block_tweaks.size());
    }
};

// Shared by all copies of one cipher. The keyed contexts are only ever the
// source of EVP_CIPHER_CTX_copy (which reads them); calls work on a workspace
// taken from the pool, so concurrent calls touch no context together. The
// pool grows to the number of concurrent callers and dies with the key.
struct XtsSectorCipher::State {
    CipherContext data_encrypt{nullptr, EVP_CIPHER_CTX_free};
    CipherContext data_decrypt{nullptr, EVP_CIPHER_CTX_free};
    CipherContext tweak_encrypt{nullptr, EVP_CIPHER_CTX_free};
    bool use_avx2 = false;
    std::mutex mutex;
    std::vector<std::unique_ptr<Workspace>> idle;  // guarded by mutex

    Result<std::unique_ptr<Workspace>> take() {
        {
            std::lock_guard lock(mutex);
            if (!idle.empty()) {
                std::unique_ptr<Workspace> workspace = std::move(idle.back());
                idle.pop_back();
                return workspace;
            }
        }
        auto workspace = std::make_unique<Workspace>();
        workspace->data_encrypt = TRY(copy_context(data_encrypt));
        workspace->data_decrypt = TRY(copy_context(data_decrypt));
        workspace->tweak_encrypt = TRY(copy_context(tweak_encrypt));
        return workspace;
    }

    void give_back(std::unique_ptr<Workspace> workspace) {
        std::lock_guard lock(mutex);
        idle.push_back(std::move(workspace));
    }
};

Result<XtsSectorCipher> XtsSectorCipher::create(std::span<const uint8_t> key) {
    if (key.size() != luks1_master_key_size)
        return Error::invalid("aes-xts: key must be " + std::to_string(luks1_master_key_size) +
                              " bytes, got " + std::to_string(key.size()));
    // XTS with equal halves loses its security; OpenSSL refuses to encrypt
    // with such a key, so this refuses it too (with a clear reason).
    size_t half = key.size() / 2;
    if (CRYPTO_memcmp(key.data(), key.data() + half, half) == 0)
        return Error::invalid("aes-xts: the two halves of the key are equal (insecure key)");
    std::unique_ptr<EVP_CIPHER, decltype(&EVP_CIPHER_free)> ecb(
        EVP_CIPHER_fetch(nullptr, "AES-256-ECB", nullptr), EVP_CIPHER_free);
    if (!ecb)
        return openssl_error("AES-256-ECB unavailable");
    auto state = std::make_shared<State>();
    state->data_encrypt = TRY(keyed_ecb(ecb.get(), key.data(), true));
    state->data_decrypt = TRY(keyed_ecb(ecb.get(), key.data(), false));
    state->tweak_encrypt = TRY(keyed_ecb(ecb.get(), key.data() + half, true));
    state->use_avx2 = cpu_has_avx2();
    XtsSectorCipher cipher;
    cipher.m_state = std::move(state);
    return cipher;
}

Result<void> XtsSectorCipher::run(uint64_t first_sector, std::span<uint8_t> data,
                                  bool encrypt) const {
    if (data.size() % luks1_sector_size != 0)
        return Error::invalid("aes-xts: data size " + std::to_string(data.size()) +
                              " is not a multiple of the 512-byte sector");
    if (data.empty())
        return {};
    if (!m_state)
        return Error::invalid("aes-xts: the cipher has no key (not made by create)");
    std::unique_ptr<Workspace> workspace = TRY(m_state->take());
    EVP_CIPHER_CTX* cipher =
        encrypt ? workspace->data_encrypt.get() : workspace->data_decrypt.get();
    uint8_t* sector_tweaks = workspace->sector_tweaks.data();
    const size_t sectors = data.size() / luks1_sector_size;
    for (size_t group = 0; group < sectors; group += group_sectors) {
        const size_t group_size = std::min(group_sectors, sectors - group);
        // plain64: the sector number, little-endian, zero-padded to 16 bytes.
        // (x86-64 is little-endian: the low 64 bits of the register come first.)
        for (size_t s = 0; s < group_size; ++s)
            store_block(sector_tweaks + s * aes_block_size,
                        _mm_cvtsi64_si128(static_cast<int64_t>(first_sector + group + s)));
        // On failure the workspace is dropped rather than pooled: its
        // contexts may be in a state the next call should not inherit.
        TRY(run_ecb(workspace->tweak_encrypt.get(), sector_tweaks, group_size * aes_block_size));
        for (size_t chunk = 0; chunk < group_size; chunk += chunk_sectors)
            TRY(run_chunk(cipher, m_state->use_avx2, sector_tweaks + chunk * aes_block_size,
                          workspace->block_tweaks.data(),
                          data.data() + (group + chunk) * luks1_sector_size,
                          std::min(chunk_sectors, group_size - chunk)));
    }
    m_state->give_back(std::move(workspace));
    return {};
}

Result<void> XtsSectorCipher::encrypt(uint64_t first_sector, std::span<uint8_t> data) const {
    return run(first_sector, data, true);
}

Result<void> XtsSectorCipher::decrypt(uint64_t first_sector, std::span<uint8_t> data) const {
    return run(first_sector, data, false);
}

}  // namespace myst::image
