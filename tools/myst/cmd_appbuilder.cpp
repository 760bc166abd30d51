// myst appbuilder: a container image on disk (OCI layout or docker/podman
// save tarball) becomes an appdir, a CPIO archive or an ext2 image, plus a
// Mystikos config.json from the image config. Mystikos's myst-appbuilder
// asks a docker daemon to export the container; this reads the image's own
// files: no daemon, no network.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/size_parse.h"
#include "image/cpio.h"
#include "image/layer_merge.h"
#include "tools/myst/command.h"
#include "tools/myst/ext2_image.h"
#include "tools/myst/host_file.h"
#include "tools/myst/image_source.h"
#include "tools/myst/progress.h"
#include "tools/myst/tree_output.h"

namespace myst::tools {

namespace {

using Json = nlohmann::json;

constexpr const char* default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct AppbuilderArguments {
    std::string input;
    std::string output = "appdir";
    std::string format = "dir";
    std::string config;  // default: config.json beside the output
    std::string memory_size = "512m";
    bool force = false;
    bool quiet = false;
};

// Counts the bytes read from a blob for the progress line.
class ProgressStream final : public image::ByteStream {
public:
    ProgressStream(image::ByteStream& inner, std::function<void(uint64_t)> advance)
        : m_inner(inner), m_advance(std::move(advance)) {}
    Result<size_t> read(std::span<uint8_t> buffer) override {
        size_t n = TRY(m_inner.read(buffer));
        m_advance(n);
        return n;
    }

private:
    image::ByteStream& m_inner;
    std::function<void(uint64_t)> m_advance;
};

// Reads one layer blob (gzip or plain tar) into the tree, checking the blob
// against its digest and size and the tar against the config's diff_id.
Result<void> apply_layer(const ImageSource& source, const LayerRef& layer, image::MergedTree& tree,
                         image::ContentStore& store, image::LayerStats& stats,
                         const std::function<void(uint64_t)>& advance) {
    std::string name = source.describe(layer.member);
    if (!source.has(layer.member))
        return Error(ENOENT, name + ": missing blob (a layer of the manifest)");
    image::FileStream raw(TRY(source.open_member(layer.member)));
    ProgressStream counted(raw, advance);
    image::HashingStream blob(counted);
    std::vector<uint8_t> head(6);
    size_t got = 0;
    TRY(image::read_exact(blob, head, &got));
    head.resize(got);
    image::Compression compression = image::detect_compression(head);
    image::PrefixedStream prefixed(std::move(head), blob);
    std::unique_ptr<image::GzipStream> gzip;
    image::ByteStream* tar_bytes = &prefixed;
    if (compression == image::Compression::gzip) {
        gzip = TRY(image::GzipStream::create(prefixed, name));
        tar_bytes = gzip.get();
    } else if (compression != image::Compression::none) {
        return Error::invalid(name +
                              ": layer compression other than gzip (zstd, xz, bzip2) is "
                              "not supported");
    }
    image::HashingStream diff(*tar_bytes);
    image::TarReader reader(diff, name);

    auto blob_digest_error = [&]() -> std::optional<Error> {
        if (!layer.digest)
            return std::nullopt;
        Sha256Digest actual = blob.finish();
        if (actual == *layer.digest)
            return std::nullopt;
        return Error::invalid(name + ": digest mismatch: the content is " + digest_text(actual));
    };
    auto applied = tree.apply_layer(reader, store, stats);
    if (applied.is_error()) {
        // A damaged blob is reported as such, not as whatever it broke.
        if (!image::drain(blob).is_error())
            if (auto mismatch = blob_digest_error())
                return *mismatch;
        return applied.release_error();
    }
    TRY(image::drain(diff));
    TRY(image::drain(blob));
    if (auto mismatch = blob_digest_error())
        return *mismatch;
    if (layer.size && blob.count() != *layer.size)
        return Error::invalid(name + ": size mismatch: the manifest says " +
                              std::to_string(*layer.size) + " bytes, the blob has " +
                              std::to_string(blob.count()));
    if (layer.diff_id) {
        Sha256Digest actual = diff.finish();
        if (actual != *layer.diff_id)
            return Error::invalid(name + ": digest mismatch: the uncompressed layer is " +
                                  digest_text(actual) + ", the image config's diff_id is " +
                                  digest_text(*layer.diff_id));
    }
    return {};
}

Result<std::vector<std::string>> string_list(const Json& config, const char* key,
                                             const std::string& source) {
    std::vector<std::string> items;
    if (!config.contains(key) || config[key].is_null())
        return items;
    if (!config[key].is_array())
        return Error::invalid(source + ": config." + key + " is not an array");
    for (const Json& item : config[key]) {
        if (!item.is_string())
            return Error::invalid(source + ": config." + key + " holds a non-string");
        items.push_back(item.get<std::string>());
    }
    return items;
}

// Entrypoint/Cmd -> ApplicationPath/ApplicationParameters, Env ->
// EnvironmentVariables, WorkingDir -> CurrentWorkingDirectory, as `docker
// run` would start the image (a bare program name is looked up in the
// image's PATH).
Result<nlohmann::ordered_json> app_config_of(const ImagePlan& plan, const ImageSource& source,
                                             const image::MergedTree& tree,
                                             const std::string& memory_size,
                                             std::vector<std::string>& notes) {
    std::string where = source.describe(plan.config_member);
    Json image = plan.config.value("config", Json::object());
    if (!image.is_object())
        image = Json::object();
    std::vector<std::string> argv = TRY(string_list(image, "Entrypoint", where));
    std::vector<std::string> cmd = TRY(string_list(image, "Cmd", where));
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    if (argv.empty() || argv[0].empty())
        return Error::invalid(where +
                              ": the image has neither Entrypoint nor Cmd (nothing to run)");
    std::vector<std::string> env = TRY(string_list(image, "Env", where));
    std::string working_directory =
        image.value("WorkingDir", Json("")).is_string() ? image.value("WorkingDir", "") : "";

    std::string program = argv[0];
    if (program.find('/') == std::string::npos) {
        std::string path = default_path;
        for (const std::string& variable : env)
            if (variable.starts_with("PATH="))
                path = variable.substr(5);
        std::string found;
        for (size_t start = 0; start <= path.size() && found.empty();) {
            size_t colon = std::min(path.find(':', start), path.size());
            std::string directory = path.substr(start, colon - start);
            start = colon + 1;
            if (directory.starts_with('/') && tree.is_file(directory + "/" + program))
                found = directory + "/" + program;
        }
        if (found.empty())
            return Error::invalid(where + ": the program '" + program +
                                  "' is not in the image's PATH (" + path + ")");
        program = found;
    } else if (!program.starts_with('/')) {
        program =
            (working_directory.empty() ? std::string("/") : working_directory + "/") + program;
    }
    if (!tree.is_file(program))
        return Error::invalid(where + ": the program " + program + " is not a file in the image");
    std::string user = image.value("User", Json("")).is_string() ? image.value("User", "") : "";
    if (!user.empty() && user != "root" && user != "0" && user != "0:0")
        notes.push_back("the image's User '" + user + "' is not kept (programs run as root)");

    nlohmann::ordered_json config = nlohmann::ordered_json::object();
    config["ApplicationPath"] = program;
    config["ApplicationParameters"] = std::vector<std::string>(argv.begin() + 1, argv.end());
    config["EnvironmentVariables"] = env;
    if (!working_directory.empty())
        config["CurrentWorkingDirectory"] = working_directory;
    config["MemorySize"] = memory_size;
    return config;
}

std::string default_config_path(const std::string& output) {
    std::filesystem::path parent = std::filesystem::path(output).parent_path();
    return (parent.empty() ? std::filesystem::path("config.json") : parent / "config.json")
        .string();
}

Result<void> refuse_existing(const std::string& path, bool force) {
    struct stat st {};
    if (!force && ::lstat(path.c_str(), &st) == 0)
        return Error(EEXIST, path + ": already exists (use --force to overwrite)");
    return {};
}

Result<void> write_output(const image::TreeNode& tree, const AppbuilderArguments& args,
                          const ScratchDirectory& scratch, ProgressLine& progress,
                          std::vector<std::string>& notes) {
    if (args.format == "dir") {
        std::string staged = scratch.path() + "/appdir";
        DirectoryWriteNotes written = TRY(write_tree_to_directory(tree, staged));
        if (written.skipped_devices)
            notes.push_back(std::to_string(written.skipped_devices) +
                            " device node(s) not created (mknod is not permitted here)");
        if (!written.owners_kept)
            notes.push_back("owners not kept: not running as root");
        if (args.force) {
            std::error_code error;
            std::filesystem::remove_all(args.output, error);
            if (error)
                return Error(error.value(), args.output + ": " + error.message());
        }
        if (::rename(staged.c_str(), args.output.c_str()) != 0)
            return Error::from_errno(errno, args.output);
        return {};
    }
    auto output = TRY(PendingOutput::create(args.output, args.force));
    if (args.format == "cpio") {
        image::CpioWriteOptions options;
        options.progress = progress.stage("writing CPIO", "MiB");
        TRY(image::write_cpio(tree, output->file(), options));
    } else {
        TRY(write_verity_ext2(tree, output->file(), progress));
    }
    return output->commit();
}

Result<std::string> build(const AppbuilderArguments& args, ProgressLine& progress,
                          std::vector<std::string>& notes) {
    if (parse_size(args.memory_size).is_error())
        return Error::invalid("--memory-size: '" + args.memory_size + "' is not a size");
    std::string config_path = args.config.empty() ? default_config_path(args.output) : args.config;
    TRY(refuse_existing(args.output, args.force));
    TRY(refuse_existing(config_path, args.force));
    for (const std::string& path : {args.output, config_path}) {
        std::string parent = std::filesystem::path(path).parent_path().string();
        struct stat st {};
        if (!parent.empty() && (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)))
            return Error(ENOENT, parent + ": no such directory (for " + path + ")");
    }
    // Everything is made beside the output and moved into place at the end,
    // so a failure leaves nothing behind.
    auto scratch = TRY(ScratchDirectory::create(args.output + ".partial-"));
    std::string files = scratch->path() + "/files";
    if (::mkdir(files.c_str(), 0700) != 0)
        return Error::from_errno(errno, files);
    auto source = TRY(ImageSource::open(args.input, scratch->path()));
    ImagePlan plan = TRY(read_image_plan(*source));

    uint64_t total = 0, done = 0;
    for (const LayerRef& layer : plan.layers)
        if (source->has(layer.member))
            total += TRY(TRY(source->open_member(layer.member))->size());
    auto show = progress.stage("applying layers", "MiB");
    auto advance = [&](uint64_t n) {
        done += n;
        if (show)
            show(done, total);
    };
    image::MergedTree tree;
    StagedContentStore store(files);
    image::LayerStats stats;
    for (const LayerRef& layer : plan.layers)
        TRY(apply_layer(*source, layer, tree, store, stats, advance));
    if (stats.dropped_xattrs)
        notes.push_back(std::to_string(stats.dropped_xattrs) +
                        " extended attribute(s) dropped (e.g. " + stats.first_dropped_xattr + ")");

    nlohmann::ordered_json config =
        TRY(app_config_of(plan, *source, tree, args.memory_size, notes));
    TRY(write_output(tree.to_tree(), args, *scratch, progress, notes));
    auto config_file = TRY(PendingOutput::create(config_path, args.force));
    std::string text = config.dump(4) + "\n";
    TRY(config_file->file().write_at(0,
                                     {reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
    TRY(config_file->commit());
    return config_path;
}

int run_appbuilder(const AppbuilderArguments& args) {
    ProgressLine progress("myst appbuilder", !args.quiet);
    std::vector<std::string> notes;
    auto result = build(args, progress, notes);
    progress.finish();
    if (result.is_error())
        return report_failure("appbuilder", result.error());
    if (!args.quiet) {
        for (const std::string& note : notes)
            std::cerr << "myst appbuilder: note: " << note << "\n";
        std::cout << args.output << ": " << args.format << " written; config: " << result.value()
                  << "\n";
    }
    return 0;
}

}  // namespace

Command add_appbuilder_command(CLI::App& parent) {
    auto args = std::make_shared<AppbuilderArguments>();
    CLI::App* app = parent.add_subcommand(
        "appbuilder", "Build an appdir, CPIO or ext2 image from a container image (no daemon)");
    app->footer(
        "Reads a container image from disk: an OCI image layout directory, or a tarball\n"
        "from 'docker save' / 'podman save' / 'skopeo copy ... oci-archive:' (plain or\n"
        "gzip). Layers are applied in order with whiteouts (.wh.NAME, .wh..wh..opq), hard\n"
        "links, symlinks, modes, owners and times; extended attributes are dropped (with\n"
        "a note). Every blob is checked against its digest. A name with '..', an absolute\n"
        "name, a path through a symlink, or a relative symlink climbing above the root is\n"
        "an error, and nothing is left behind. The config.json written beside the output\n"
        "runs the image's Entrypoint + Cmd with its Env and WorkingDir.\n\n"
        "Examples:\n"
        "  myst appbuilder -i image.tar -o appdir\n"
        "  myst appbuilder -i oci-dir -f ext2 -o app.ext2\n"
        "  myst exec-linux --app-config-path config.json app.ext2 /usr/bin/app");
    app->add_option("-i,--input", args->input, "OCI layout directory or image tarball")->required();
    app->add_option("-o,--output", args->output, "Output directory or image (default: appdir)");
    app->add_option("-f,--format", args->format, "Output format: dir (default), cpio or ext2")
        ->check(CLI::IsMember({"dir", "cpio", "ext2"}));
    app->add_option("-c,--config", args->config,
                    "Where to write config.json (default: beside the output)");
    app->add_option("--memory-size", args->memory_size, "MemorySize in the config (default 512m)");
    app->add_flag("--force", args->force, "Replace an existing output and config");
    app->add_flag("--quiet,-q", args->quiet, "Print nothing on success");
    return {app, [args] { return run_appbuilder(*args); }};
}

}  // namespace myst::tools
