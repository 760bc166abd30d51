#include "tools/myst/oci_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "base/sha256.h"
#include "image/byte_stream.h"
#include "image/tar_writer.h"
#include "tools/myst/host_file.h"
#include "tools/myst/image_source.h"
#include "tools/myst/tree_output.h"

namespace myst::tools {

namespace {

using Json = nlohmann::json;

struct Descriptor {
    std::string digest;
    uint64_t size = 0;
};

Result<void> write_file(const std::string& path, std::span<const uint8_t> bytes) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return Error::from_errno(errno, path);
    auto file = HostFile::adopt(fd, path);
    return file->write_at(0, bytes);
}

Result<Descriptor> write_blob(const std::string& blobs, std::span<const uint8_t> bytes) {
    Sha256Digest digest = Sha256::digest(bytes);
    TRY(write_file(blobs + "/" + to_hex(digest), bytes));
    return Descriptor{digest_text(digest), bytes.size()};
}

Result<Descriptor> write_json_blob(const std::string& blobs, const Json& json) {
    std::string text = json.dump();
    return write_blob(blobs, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

struct Layer {
    std::vector<uint8_t> compressed;
    Sha256Digest diff_id{};
};

// The layer tar: myst/, myst/bin/, myst/bin/<name> (0755), gzip-compressed;
// times are 0 so the same package gives the same layer.
Result<Layer> build_layer(const OciImageOptions& options) {
    auto executable = TRY(HostFile::open_read(options.executable_path));
    uint64_t size = TRY(executable->size());
    auto gzip = TRY(image::GzipWriter::create());
    Sha256 diff;
    diff.begin();
    Layer layer;
    auto add = [&](std::span<const uint8_t> bytes) -> Result<void> {
        diff.update(bytes);
        return gzip->write(bytes, layer.compressed);
    };
    for (const char* directory : {"myst/", "myst/bin/"}) {
        image::TarEntry entry;
        entry.name = directory;
        entry.type = image::TarEntryType::directory;
        entry.permissions = 0755;
        TRY(add(image::tar_header(entry)));
    }
    image::TarEntry file;
    file.name = "myst/bin/" + options.name;
    file.permissions = 0755;
    file.size = size;
    TRY(add(image::tar_header(file)));
    std::vector<uint8_t> chunk(1 << 20);
    for (uint64_t done = 0; done < size;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), size - done));
        TRY(executable->read_at(done, std::span(chunk).first(n)));
        TRY(add(std::span(chunk).first(n)));
        done += n;
    }
    TRY(add(image::tar_padding(size)));
    TRY(add(image::tar_end()));
    TRY(gzip->finish(layer.compressed));
    layer.diff_id = diff.finish();
    return layer;
}

}  // namespace

Result<std::string> write_oci_image(const OciImageOptions& options) {
    if (options.name.empty() || options.name.find('/') != std::string::npos ||
        options.name == "." || options.name == "..")
        return Error::invalid("--oci: '" + options.name + "' cannot be a file name in the image");
    struct stat st {};
    if (::lstat(options.directory.c_str(), &st) == 0)
        return Error(EEXIST, options.directory + ": already exists (remove it first)");
    auto scratch = TRY(ScratchDirectory::create(options.directory + ".partial-"));
    std::string layout = scratch->path() + "/layout";
    std::string blobs = layout + "/blobs/sha256";
    for (const std::string& directory : {layout, layout + "/blobs", blobs})
        if (::mkdir(directory.c_str(), 0755) != 0)
            return Error::from_errno(errno, directory);

    Layer layer = TRY(build_layer(options));
    Descriptor layer_blob = TRY(write_blob(blobs, layer.compressed));
    std::string entrypoint = "/myst/bin/" + options.name;
    Json config = {
        {"architecture", "amd64"},
        {"os", "linux"},
        {"config", {{"Entrypoint", {entrypoint}}, {"WorkingDir", "/"}}},
        {"rootfs", {{"type", "layers"}, {"diff_ids", {digest_text(layer.diff_id)}}}},
        {"history", {{{"created_by", "myst package --oci"}}}},
    };
    Descriptor config_blob = TRY(write_json_blob(blobs, config));
    Json manifest = {
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config",
         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
          {"digest", config_blob.digest},
          {"size", config_blob.size}}},
        {"layers",
         {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
           {"digest", layer_blob.digest},
           {"size", layer_blob.size}}}},
    };
    Descriptor manifest_blob = TRY(write_json_blob(blobs, manifest));
    Json index = {
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.index.v1+json"},
        {"manifests",
         {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
           {"digest", manifest_blob.digest},
           {"size", manifest_blob.size},
           {"platform", {{"architecture", "amd64"}, {"os", "linux"}}},
           {"annotations", {{"org.opencontainers.image.ref.name", options.tag}}}}}},
    };
    std::string index_text = index.dump();
    TRY(write_file(layout + "/index.json",
                   {reinterpret_cast<const uint8_t*>(index_text.data()), index_text.size()}));
    std::string marker = R"({"imageLayoutVersion":"1.0.0"})";
    TRY(write_file(layout + "/oci-layout",
                   {reinterpret_cast<const uint8_t*>(marker.data()), marker.size()}));
    if (::rename(layout.c_str(), options.directory.c_str()) != 0)
        return Error::from_errno(errno, options.directory);
    return manifest_blob.digest;
}

}  // namespace myst::tools
