#include "tools/myst/image_source.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "base/hex.h"
#include "image/byte_stream.h"
#include "image/tar_reader.h"
#include "tools/myst/host_file.h"

namespace myst::tools {

namespace {

using Json = nlohmann::json;

constexpr uint64_t max_json_bytes = 64ull << 20;
constexpr int max_index_depth = 4;
constexpr int max_member_symlinks = 8;

std::string join(const std::vector<std::string>& parts) {
    std::string path;
    for (const std::string& part : parts)
        path += (path.empty() ? "" : "/") + part;
    return path;
}

// A member path named by a manifest: inside the input, never above it.
Result<std::string> member_path(const std::string& name) {
    return join(TRY(image::tar_path_components(name)));
}

class DirectorySource final : public ImageSource {
public:
    explicit DirectorySource(std::string path) : ImageSource(std::move(path)) {}
    bool has(const std::string& member) const override {
        struct stat st {};
        return ::stat((m_path + "/" + member).c_str(), &st) == 0 && S_ISREG(st.st_mode);
    }
    Result<std::shared_ptr<image::RandomAccessFile>> open_member(
        const std::string& member) const override {
        auto file = HostFile::open_read(m_path + "/" + member);
        if (file.is_error())
            return Error(file.error().code(),
                         describe(member) + ": missing (" + file.error().message() + ")");
        return std::shared_ptr<image::RandomAccessFile>(file.release_value());
    }
};

// A tarball, indexed once: members are windows of the (uncompressed) file.
class TarballSource final : public ImageSource {
public:
    static Result<std::unique_ptr<TarballSource>> create(std::string path,
                                                         std::shared_ptr<HostFile> file) {
        std::unique_ptr<TarballSource> source(new TarballSource(std::move(path), file));
        image::FileStream stream(file);
        image::TarReader reader(stream, source->m_path);
        std::map<std::string, std::string> hard_links;
        while (auto entry = TRY(reader.next())) {
            auto name = member_path(entry->name);
            if (name.is_error())
                return name.release_error().with_context(source->m_path);
            if (entry->type == image::TarEntryType::regular)
                source->m_members[name.value()] = {entry->data_offset, entry->size};
            else if (entry->type == image::TarEntryType::symlink)
                source->m_symlinks[name.value()] = entry->link_name;
            else if (entry->type == image::TarEntryType::hard_link)
                hard_links[name.value()] = entry->link_name;
        }
        for (const auto& [name, target] : hard_links) {
            auto target_name = member_path(target);
            if (!target_name.is_error() && source->m_members.contains(target_name.value()))
                source->m_members[name] = source->m_members[target_name.value()];
        }
        return source;
    }

    bool has(const std::string& member) const override { return !resolve(member).is_error(); }

    Result<std::shared_ptr<image::RandomAccessFile>> open_member(
        const std::string& member) const override {
        auto window = TRY(resolve(member));
        return std::shared_ptr<image::RandomAccessFile>(
            std::make_shared<image::FileWindow>(m_file, window.offset, window.size));
    }

private:
    struct Window {
        uint64_t offset = 0;
        uint64_t size = 0;
    };
    TarballSource(std::string path, std::shared_ptr<HostFile> file)
        : ImageSource(std::move(path)), m_file(std::move(file)) {}

    // Docker 25's save links <id>/layer.tar to ../blobs/sha256/<hex>.
    Result<Window> resolve(std::string member) const {
        for (int hop = 0; hop <= max_member_symlinks; hop++) {
            if (auto it = m_members.find(member); it != m_members.end())
                return it->second;
            auto link = m_symlinks.find(member);
            if (link == m_symlinks.end())
                break;
            std::vector<std::string> parts = TRY(image::tar_path_components(member));
            parts.pop_back();
            if (link->second.starts_with('/'))
                parts.clear();
            for (const std::string& part : split(link->second)) {
                if (part == "..") {
                    if (parts.empty())
                        return Error::invalid(describe(member) +
                                              ": symlink leads outside the archive");
                    parts.pop_back();
                } else if (part != ".") {
                    parts.push_back(part);
                }
            }
            member = join(parts);
        }
        return Error(ENOENT, describe(member) + ": missing");
    }
    static std::vector<std::string> split(const std::string& path) {
        std::vector<std::string> parts;
        size_t start = 0;
        while (start <= path.size()) {
            size_t slash = path.find('/', start);
            if (slash == std::string::npos)
                slash = path.size();
            if (slash > start)
                parts.push_back(path.substr(start, slash - start));
            start = slash + 1;
        }
        return parts;
    }

    std::shared_ptr<HostFile> m_file;
    std::map<std::string, Window> m_members;
    std::map<std::string, std::string> m_symlinks;
};

Result<std::vector<uint8_t>> read_member(const ImageSource& source, const std::string& member) {
    auto file = TRY(source.open_member(member));
    uint64_t size = TRY(file->size());
    if (size > max_json_bytes)
        return Error::invalid(source.describe(member) + ": " + std::to_string(size) +
                              " bytes is too large for a manifest or config");
    std::vector<uint8_t> bytes(size);
    TRY(file->read_at(0, bytes));
    return bytes;
}

Result<Json> parse_json(const ImageSource& source, const std::string& member,
                        const std::vector<uint8_t>& bytes) {
    Json json = Json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (json.is_discarded())
        return Error::invalid(source.describe(member) + ": not valid JSON");
    return json;
}

Result<Sha256Digest> parse_digest(const ImageSource& source, const std::string& where,
                                  const Json& value) {
    if (!value.is_string())
        return Error::invalid(source.describe(where) + ": a descriptor without a digest string");
    std::string text = value.get<std::string>();
    if (!text.starts_with("sha256:"))
        return Error::invalid(source.describe(where) + ": digest '" + text +
                              "': only sha256 digests are supported");
    auto digest = sha256_digest_from_hex(text.substr(7));
    if (digest.is_error())
        return Error::invalid(source.describe(where) + ": digest '" + text + "' is malformed");
    return digest.release_value();
}

std::string blob_member(const Sha256Digest& digest) {
    return "blobs/sha256/" + to_hex(digest);
}

// A descriptor's blob, read whole and checked against its digest and size.
struct Blob {
    std::string member;
    Json json;
};

Result<Blob> read_blob_json(const ImageSource& source, const std::string& where,
                            const Json& descriptor) {
    if (!descriptor.is_object())
        return Error::invalid(source.describe(where) + ": a descriptor is not a JSON object");
    Sha256Digest digest = TRY(parse_digest(source, where, descriptor.value("digest", Json())));
    std::string member = blob_member(digest);
    if (!source.has(member))
        return Error(ENOENT, source.describe(member) + ": missing blob (named in " + where + ")");
    std::vector<uint8_t> bytes = TRY(read_member(source, member));
    Sha256Digest actual = Sha256::digest(bytes);
    if (actual != digest)
        return Error::invalid(source.describe(member) + ": digest mismatch: the content is " +
                              digest_text(actual));
    if (descriptor.contains("size") && (!descriptor["size"].is_number_unsigned() ||
                                        descriptor["size"].get<uint64_t>() != bytes.size()))
        return Error::invalid(source.describe(member) + ": size mismatch: " + where + " says " +
                              descriptor["size"].dump() + ", the blob has " +
                              std::to_string(bytes.size()) + " bytes");
    return Blob{member, TRY(parse_json(source, member, bytes))};
}

bool is_index_type(const std::string& type) {
    return type == "application/vnd.oci.image.index.v1+json" ||
           type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

bool wanted_platform(const Json& descriptor) {
    if (!descriptor.contains("platform") || !descriptor["platform"].is_object())
        return true;
    const Json& platform = descriptor["platform"];
    return platform.value("os", "linux") == "linux" &&
           platform.value("architecture", "amd64") == "amd64";
}

Result<Json> read_config(const ImageSource& source, ImagePlan& plan, const Json& descriptor,
                         const std::string& where) {
    if (descriptor.contains("mediaType")) {
        std::string type =
            descriptor["mediaType"].is_string() ? descriptor["mediaType"].get<std::string>() : "";
        if (type != "application/vnd.oci.image.config.v1+json" &&
            type != "application/vnd.docker.container.image.v1+json")
            return Error::invalid(source.describe(where) +
                                  ": not a container image (its config is '" + type + "')");
    }
    Blob blob = TRY(read_blob_json(source, where, descriptor));
    plan.config_member = blob.member;
    return blob.json;
}

// An OCI image manifest (or Docker's v2 manifest, same shape).
Result<void> read_manifest(const ImageSource& source, ImagePlan& plan, const Blob& manifest) {
    const Json& json = manifest.json;
    auto not_one = [&](const std::string& why) {
        return Error::invalid(source.describe(manifest.member) + ": not an image manifest (" + why +
                              ")");
    };
    if (!json.is_object())
        return not_one("not a JSON object");
    if (json.value("schemaVersion", Json()) != 2)
        return not_one("schemaVersion is not 2");
    std::string type = json.value("mediaType", Json("")).is_string()
                           ? json.value("mediaType", std::string())
                           : std::string("?");
    if (!type.empty() && type != "application/vnd.oci.image.manifest.v1+json" &&
        type != "application/vnd.docker.distribution.manifest.v2+json")
        return not_one("mediaType is '" + type + "'");
    if (!json.contains("config") || !json["config"].is_object())
        return not_one("no config descriptor");
    if (!json.contains("layers") || !json["layers"].is_array())
        return not_one("no layers array");
    plan.config = TRY(read_config(source, plan, json["config"], manifest.member));
    for (const Json& layer : json["layers"]) {
        if (!layer.is_object())
            return not_one("a layer descriptor is not an object");
        LayerRef ref;
        ref.digest = TRY(parse_digest(source, manifest.member, layer.value("digest", Json())));
        ref.member = blob_member(*ref.digest);
        if (layer.contains("size") && layer["size"].is_number_unsigned())
            ref.size = layer["size"].get<uint64_t>();
        plan.layers.push_back(std::move(ref));
    }
    return {};
}

Result<void> read_oci_index(const ImageSource& source, ImagePlan& plan, const Blob& index,
                            int depth) {
    if (depth > max_index_depth)
        return Error::invalid(source.describe(index.member) + ": image indexes nested too deeply");
    if (!index.json.is_object() || !index.json.contains("manifests") ||
        !index.json["manifests"].is_array())
        return Error::invalid(source.describe(index.member) +
                              ": not an image index (no manifests array)");
    for (const Json& descriptor : index.json["manifests"]) {
        if (!descriptor.is_object() || !wanted_platform(descriptor))
            continue;
        Blob blob = TRY(read_blob_json(source, index.member, descriptor));
        std::string type = descriptor.value("mediaType", Json("")).is_string()
                               ? descriptor.value("mediaType", std::string())
                               : std::string();
        if (is_index_type(type) || (blob.json.is_object() && blob.json.contains("manifests")))
            return read_oci_index(source, plan, blob, depth + 1);
        return read_manifest(source, plan, blob);
    }
    return Error::invalid(source.describe(index.member) + ": no linux/amd64 image in it");
}

// The older `docker save` shape: manifest.json lists Config and Layers paths.
Result<void> read_docker_manifest(const ImageSource& source, ImagePlan& plan) {
    const std::string member = "manifest.json";
    Json json = TRY(parse_json(source, member, TRY(read_member(source, member))));
    if (!json.is_array() || json.empty() || !json[0].is_object() || !json[0].contains("Config") ||
        !json[0]["Config"].is_string() || !json[0].contains("Layers") ||
        !json[0]["Layers"].is_array())
        return Error::invalid(source.describe(member) +
                              ": not a docker save manifest (expected [{\"Config\", \"Layers\"}])");
    const Json& image = json[0];
    std::string config = TRY(member_path(image["Config"].get<std::string>()));
    if (!source.has(config))
        return Error(ENOENT, source.describe(config) + ": missing (named in manifest.json)");
    std::vector<uint8_t> bytes = TRY(read_member(source, config));
    // Its name is its digest: "<hex>.json" or "blobs/sha256/<hex>".
    std::string name = config.substr(config.rfind('/') + 1);
    if (name.ends_with(".json"))
        name.resize(name.size() - 5);
    if (auto expected = sha256_digest_from_hex(name); !expected.is_error()) {
        Sha256Digest actual = Sha256::digest(bytes);
        if (actual != expected.value())
            return Error::invalid(source.describe(config) + ": digest mismatch: the content is " +
                                  digest_text(actual));
    }
    plan.config = TRY(parse_json(source, config, bytes));
    plan.config_member = config;
    for (const Json& layer : image["Layers"]) {
        if (!layer.is_string())
            return Error::invalid(source.describe(member) + ": a Layers entry is not a string");
        LayerRef ref;
        ref.member = TRY(member_path(layer.get<std::string>()));
        if (ref.member.starts_with("blobs/sha256/"))
            if (auto digest = sha256_digest_from_hex(ref.member.substr(13)); !digest.is_error())
                ref.digest = digest.value();
        plan.layers.push_back(std::move(ref));
    }
    return {};
}

}  // namespace

std::string digest_text(const Sha256Digest& digest) {
    return "sha256:" + to_hex(digest);
}

Result<std::unique_ptr<ImageSource>> ImageSource::open(const std::string& path,
                                                       const std::string& scratch) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return Error::from_errno(errno, path);
    if (S_ISDIR(st.st_mode))
        return std::unique_ptr<ImageSource>(std::make_unique<DirectorySource>(path));
    std::shared_ptr<HostFile> file = TRY(HostFile::open_read(path));
    uint8_t head[6] = {};
    uint64_t size = TRY(file->size());
    TRY(file->read_at(0, std::span(head, std::min<uint64_t>(size, sizeof head))));
    auto compression = image::detect_compression(std::span(head, std::min<uint64_t>(size, 6)));
    if (compression == image::Compression::gzip) {
        image::FileStream compressed(file);
        auto gzip = TRY(image::GzipStream::create(compressed, path));
        std::string copy_path = scratch + "/input.tar";
        int fd = ::open(copy_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return Error::from_errno(errno, copy_path);
        std::shared_ptr<HostFile> copy = HostFile::adopt(fd, copy_path);
        std::vector<uint8_t> chunk(1 << 20);
        uint64_t offset = 0;
        while (size_t n = TRY(gzip->read(chunk))) {
            TRY(copy->write_at(offset, std::span(chunk).first(n)));
            offset += n;
        }
        file = std::move(copy);
    } else if (compression != image::Compression::none) {
        return Error::invalid(path + ": only plain or gzip-compressed tarballs are supported");
    }
    auto source = TarballSource::create(path, std::move(file));
    if (source.is_error())
        return source.release_error();
    return std::unique_ptr<ImageSource>(source.release_value());
}

Result<ImagePlan> read_image_plan(const ImageSource& source) {
    ImagePlan plan;
    if (source.has("index.json")) {
        Blob index{"index.json",
                   TRY(parse_json(source, "index.json", TRY(read_member(source, "index.json"))))};
        TRY(read_oci_index(source, plan, index, 0));
    } else if (source.has("manifest.json")) {
        TRY(read_docker_manifest(source, plan));
    } else {
        return Error::invalid(source.describe("index.json") +
                              ": missing: not an OCI image layout or docker save archive "
                              "(neither index.json nor manifest.json)");
    }
    if (!plan.config.is_object())
        return Error::invalid(source.describe(plan.config_member) +
                              ": the image config is not an object");
    const Json& rootfs = plan.config.value("rootfs", Json());
    if (rootfs.is_object() && rootfs.contains("diff_ids") && rootfs["diff_ids"].is_array()) {
        const Json& ids = rootfs["diff_ids"];
        if (ids.size() != plan.layers.size())
            return Error::invalid(source.describe(plan.config_member) + ": it lists " +
                                  std::to_string(ids.size()) + " layer diff_ids for " +
                                  std::to_string(plan.layers.size()) + " layers");
        for (size_t i = 0; i < ids.size(); i++)
            plan.layers[i].diff_id = TRY(parse_digest(source, plan.config_member, ids[i]));
    }
    return plan;
}

}  // namespace myst::tools
