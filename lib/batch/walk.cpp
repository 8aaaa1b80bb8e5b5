// Finding a batch's inputs: walking the roots, filtering by glob, and the glob rules.

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <imgpipe/batch.hpp>
#include <set>
#include <system_error>
#include <utility>

namespace imgpipe {

namespace {

namespace fs = std::filesystem;

// ---- Globs -------------------------------------------------------------------------------

// Matches a class "[...]" starting at pattern[at] against `c`. Returns the position after the
// class, or npos when the class is unclosed (then '[' is an ordinary character).
std::size_t match_class(std::string_view pattern, std::size_t at, char c, bool& matched) {
  std::size_t i = at + 1;
  bool negate = i < pattern.size() && pattern[i] == '!';
  if (negate) ++i;
  bool hit = false;
  bool first = true;
  // A ']' right after "[" or "[!" is a member, as in POSIX shells.
  for (; i < pattern.size() && (first || pattern[i] != ']'); ++i, first = false) {
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      const auto low = static_cast<unsigned char>(pattern[i]),
                 high = static_cast<unsigned char>(pattern[i + 2]);
      if (low <= static_cast<unsigned char>(c) && static_cast<unsigned char>(c) <= high) hit = true;
      i += 2;
    } else if (pattern[i] == c) {
      hit = true;
    }
  }
  if (i >= pattern.size()) return std::string_view::npos;
  matched = hit != negate;
  return i + 1;
}

// One path component against one pattern component ('*', '?' and classes; never '/').
// Greedy with backtracking to the last '*', which is exact for patterns whose other tokens
// each match one character.
bool match_component(std::string_view pattern, std::string_view name) {
  std::size_t p = 0, n = 0;
  std::size_t star_p = std::string_view::npos, star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = ++p;
      star_n = n;
      continue;
    }
    if (p < pattern.size()) {
      std::size_t next = p + 1;
      bool matched = false;
      if (pattern[p] == '[') {
        next = match_class(pattern, p, name[n], matched);
        if (next == std::string_view::npos) {
          next = p + 1;
          matched = name[n] == '[';
        }
      } else {
        matched = pattern[p] == '?' || pattern[p] == name[n];
      }
      if (matched) {
        p = next;
        ++n;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = text.find('/', start);
    parts.push_back(
        text.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

// Components against components: '**' is to components what '*' is to characters, so the
// same greedy-with-backtracking walk applies.
bool match_components(const std::vector<std::string_view>& pattern,
                      const std::vector<std::string_view>& path) {
  std::size_t p = 0, n = 0;
  std::size_t star_p = std::string_view::npos, star_n = 0;
  while (n < path.size()) {
    if (p < pattern.size() && pattern[p] == "**") {
      star_p = ++p;
      star_n = n;
      continue;
    }
    if (p < pattern.size() && match_component(pattern[p], path[n])) {
      ++p;
      ++n;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == "**") ++p;
  return p == pattern.size();
}

// ---- Walking -----------------------------------------------------------------------------

using FileId = std::pair<dev_t, ino_t>;

FileId id_of(const struct stat& info) {
  return {info.st_dev, info.st_ino};
}

[[noreturn]] void fail_io(const fs::path& path, const std::string& problem) {
  throw Error(ErrorCategory::io, fmt::format("{}: {}", path.string(), problem));
}

bool has_image_extension(const fs::path& path) {
  static constexpr std::array<std::string_view, 7> kExtensions = {"jpg", "jpeg", "png", "webp",
                                                                  "tif", "tiff", "gif"};
  std::string ext = path.extension().string();
  if (ext.size() < 2) return false;
  ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

bool wanted(const WalkOptions& options, const fs::path& relpath) {
  const std::string text = relpath.generic_string();
  auto any = [&](const std::vector<std::string>& globs) {
    return std::any_of(globs.begin(), globs.end(),
                       [&](const std::string& glob) { return glob_match(glob, text); });
  };
  bool included = options.include.empty() ? has_image_extension(relpath) : any(options.include);
  return included && !any(options.exclude);
}

struct Found {
  InputFile file;
  FileId id;
  std::string key;  // relpath with '/' separators, the sort key
};

// One walk over all roots: the folders entered (loops and overlapping roots are entered once)
// and the folders never to enter.
class Walker {
 public:
  explicit Walker(const WalkOptions& options) : options_(options) {
    for (const auto& folder : options.skip) {
      struct stat info {};
      // A skip folder that does not exist yet (an output folder still to be made) has nothing to skip.
      if (::stat(folder.c_str(), &info) == 0) skip_.insert(id_of(info));
    }
  }

  // Every wanted file below `root`, in no particular order.
  std::vector<Found> walk(const fs::path& root, const struct stat& root_info) {
    std::vector<Found> found;
    enter(root, fs::path(), root_info, found);
    return found;
  }

 private:
  void enter(const fs::path& folder, const fs::path& relfolder, const struct stat& info,
             std::vector<Found>& found) {
    if (skip_.count(id_of(info)) || !entered_.insert(id_of(info)).second) return;
    for (const auto& name : list(folder)) {
      if (!options_.hidden && name.front() == '.') continue;
      const fs::path path = folder / name;
      const fs::path relpath = relfolder / name;
      struct stat entry {};
      if (::lstat(path.c_str(), &entry) != 0) fail_io(path, std::strerror(errno));
      if (S_ISLNK(entry.st_mode)) {
        // A dangling link is no input; a link is taken only when links are followed.
        if (!options_.follow_symlinks || ::stat(path.c_str(), &entry) != 0) continue;
      }
      if (S_ISDIR(entry.st_mode)) {
        enter(path, relpath, entry, found);
      } else if (S_ISREG(entry.st_mode) && wanted(options_, relpath)) {
        found.push_back({InputFile{path, relpath, static_cast<std::uint64_t>(entry.st_size)}, id_of(entry),
                         relpath.generic_string()});
      }
    }
  }

  // The folder's entry names, sorted so that the walk (and which of two paths to one folder
  // is entered) does not depend on the order the file system gives.
  static std::vector<std::string> list(const fs::path& folder) {
    std::vector<std::string> names;
    std::error_code error;
    fs::directory_iterator it(folder, error);
    for (; !error && it != fs::directory_iterator(); it.increment(error))
      names.push_back(it->path().filename().string());
    if (error) fail_io(folder, error.message());
    std::sort(names.begin(), names.end());
    return names;
  }

  const WalkOptions& options_;
  std::set<FileId> skip_;
  std::set<FileId> entered_;
};

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) noexcept {
  try {
    if (pattern.find('/') == std::string_view::npos) {
      std::size_t slash = path.rfind('/');
      return match_component(pattern, slash == std::string_view::npos ? path : path.substr(slash + 1));
    }
    return match_components(split(pattern), split(path));
  } catch (...) {  // only allocation can fail
    return false;
  }
}

std::vector<InputFile> find_inputs(const std::vector<fs::path>& roots, const WalkOptions& options) {
  Walker walker(options);
  std::vector<InputFile> inputs;
  std::set<FileId> taken;
  for (const auto& root : roots) {
    struct stat info {};
    // A root named on the command line is resolved even when it is a link: the user chose it.
    if (::stat(root.c_str(), &info) != 0) fail_io(root, std::strerror(errno));
    if (S_ISREG(info.st_mode)) {
      // A file named directly is taken whatever its name: the filters are for walks.
      if (taken.insert(id_of(info)).second)
        inputs.push_back(InputFile{root, root.filename(), static_cast<std::uint64_t>(info.st_size)});
      continue;
    }
    if (!S_ISDIR(info.st_mode)) fail_io(root, "not a file or a folder");
    std::vector<Found> found = walker.walk(root, info);
    std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.key < b.key; });
    // Deduplicating after sorting keeps the first path in sorted order, whatever the walk order.
    for (auto& candidate : found)
      if (taken.insert(candidate.id).second) inputs.push_back(std::move(candidate.file));
  }
  return inputs;
}

}  // namespace imgpipe
