// The input of `myst appbuilder`: a container image on disk, read without a
// daemon or a network. Three shapes are accepted: an OCI image layout
// directory (oci-layout, index.json, blobs/sha256/...), a tarball of one
// (`docker save` since Docker 25, `skopeo copy ... oci-archive:`), and a
// `docker save` / `podman save` tarball of the older shape (manifest.json,
// <id>/layer.tar, <config>.json); tarballs may be gzip-compressed.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "image/io.h"

namespace myst::tools {

// The files of the image input, by their path inside it.
class ImageSource {
public:
    // `scratch` is a directory for a decompressed copy of a gzipped tarball.
    static Result<std::unique_ptr<ImageSource>> open(const std::string& path,
                                                     const std::string& scratch);
    virtual ~ImageSource() = default;

    virtual bool has(const std::string& member) const = 0;
    virtual Result<std::shared_ptr<image::RandomAccessFile>> open_member(
        const std::string& member) const = 0;
    // "/in/image.tar: blobs/sha256/ab12..." for messages.
    std::string describe(const std::string& member) const { return m_path + ": " + member; }

protected:
    explicit ImageSource(std::string path) : m_path(std::move(path)) {}
    std::string m_path;
};

struct LayerRef {
    std::string member;                   // path inside the input
    std::optional<Sha256Digest> digest;   // of the blob as stored (OCI descriptors)
    std::optional<uint64_t> size;         // of the blob as stored
    std::optional<Sha256Digest> diff_id;  // of the uncompressed tar (image config)
};

struct ImagePlan {
    std::vector<LayerRef> layers;  // lowest first
    nlohmann::json config;         // the image config ("config": Entrypoint, Cmd, ...)
    std::string config_member;
};

// Finds the image's manifest and config (checked against their digests) and
// its layers. A missing blob, a digest or size mismatch, or a manifest that
// is not one is an error naming the file and the reason.
Result<ImagePlan> read_image_plan(const ImageSource& source);

// Hex of a digest, for messages.
std::string digest_text(const Sha256Digest& digest);

}  // namespace myst::tools
