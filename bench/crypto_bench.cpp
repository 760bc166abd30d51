// Throughput of our SHA-256 (as dm-verity uses it: one 4 KiB block plus a
// 32-byte salt per digest) and AES-256-XTS (512-byte sectors, 1 MiB per call),
// in MB/s, for bench/mkext2.sh to set beside `openssl speed`.
#include <chrono>
#include <cstdio>
#include <vector>

#include "image/luks1.h"
#include "image/verity.h"

using namespace myst;

namespace {

template <typename Work>
double megabytes_per_second(size_t bytes_per_call, Work&& work) {
    using clock = std::chrono::steady_clock;
    auto start = clock::now();
    size_t calls = 0;
    while (clock::now() - start < std::chrono::seconds(2)) {
        for (int i = 0; i < 64; ++i)
            work();
        calls += 64;
    }
    double seconds = std::chrono::duration<double>(clock::now() - start).count();
    return double(calls) * double(bytes_per_call) / seconds / 1e6;
}

}  // namespace

int main() {
    std::vector<uint8_t> block(4096, 0x5a);
    std::vector<uint8_t> salt(32, 0x11);
    Sha256 hasher;
    double sha = megabytes_per_second(block.size(), [&] {
        volatile auto digest = image::verity_hash_block(hasher, salt, block);
        (void)digest;
    });
    std::vector<uint8_t> key(64);
    for (size_t i = 0; i < key.size(); ++i)
        key[i] = static_cast<uint8_t>(i * 7 + 1);
    auto cipher = image::XtsSectorCipher::create(key);
    if (cipher.is_error()) {
        std::fprintf(stderr, "%s\n", cipher.error().message().c_str());
        return 1;
    }
    std::vector<uint8_t> data(1 << 20, 0x33);
    uint64_t sector = 0;
    double xts = megabytes_per_second(data.size(), [&] {
        (void)cipher.value().encrypt(sector, data);
        sector += data.size() / 512;
    });
    std::printf("sha256-verity-4k %.0f\naes-256-xts-1m %.0f\n", sha, xts);
    return 0;
}
