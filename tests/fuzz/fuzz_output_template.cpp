// libFuzzer target: output templates (imgpipe::check_output_template and
// imgpipe::expand_output_template). The input is "template\nrelpath\nvariant": the template as
// `--output-template` or the chain file's output.path gives it, the input's relative path and
// the variant name. imgpipe::Error other than Error(internal) is the expected answer to a bad template;
// anything else escaping is a finding (docs/reliability.md).
#include <cstddef>
#include <cstdint>
#include <imgpipe/batch.hpp>
#include <string>
#include <string_view>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  auto next = [&rest] {
    const auto end = rest.find('\n');
    const std::string_view part = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    return part;
  };
  const std::string_view output_template = next();
  const std::string_view relpath = next();
  const std::string_view variant = next();
  imgpipe::fuzz::expect_user_errors([&] { imgpipe::check_output_template(output_template); });
  imgpipe::fuzz::expect_user_errors([&] {
    imgpipe::InputFile input;
    input.relpath = std::string(relpath.empty() ? "a/b.jpg" : relpath);
    input.path = "/in" / input.relpath;
    (void)imgpipe::expand_output_template(output_template, input, size, "webp", variant);
  });
  return 0;
}
