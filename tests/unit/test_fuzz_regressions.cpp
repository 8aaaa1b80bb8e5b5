// Inputs the fuzz targets (tests/fuzz, docs/reliability.md) found to crash or to let something
// other than imgpipe::Error escape, fed through the same API as the target that found them.
// Each is a bug that was fixed; the sanitizer stage of `tools/dev test` runs these under ASan
// and UBSan, where an out-of-bounds read fails the test even when the plain build does not.
#include <gtest/gtest.h>

#include <cstdint>
#include <imgpipe/io.hpp>
#include <span>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

std::vector<std::uint8_t> regression(const std::string& name) {
  return test::read_file(test::source_dir() / "tests" / "fuzz" / "regressions" / name);
}

// What fuzz_load does with an input: probe, then load, with a small pixel limit.
void probe_and_load(std::span<const std::uint8_t> bytes) {
  Limits limits;
  limits.max_input_pixels = 512 * 512;
  try {
    (void)probe_buffer(bytes, "fuzz", limits);
  } catch (const Error&) {
  }
  try {
    (void)load_buffer(bytes, "fuzz", {}, limits);
  } catch (const Error&) {
  }
}

}  // namespace

// fuzz_load: an unrecognised input of 10 bytes or more made the sniffer of blocked formats
// compare the JP2 signature as 10 bytes of an 8-character literal, reading past its end
// (ASan: global-buffer-overflow in sniff_blocked_format, lib/io/load.cpp).
TEST(FuzzRegressions, LoadUnrecognisedInputDoesNotReadPastTheJp2Signature) {
  const auto bytes = regression("load-sniff-overread.bin");
  ASSERT_FALSE(bytes.empty());
  probe_and_load(bytes);
  try {
    (void)probe_buffer(bytes, "fuzz");
    ADD_FAILURE() << "an unrecognised input was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::decode) << e.what();
  }
}

// The same check with the whole JP2 signature box: a JPEG 2000 file, read only when allowed,
// is named in the refusal so that the message can say how to allow it.
TEST(FuzzRegressions, Jp2SignatureIsRecognisedAsABlockedFormat) {
  std::string jp2("\0\0\0\x0cjP  \r\n\x87\n", 12);
  jp2 += std::string(
      "\0\0\0\x14"
      "ftypjp2 \0\0\0\0jp2 ",
      20);
  const std::vector<std::uint8_t> bytes(jp2.begin(), jp2.end());
  try {
    (void)probe_buffer(bytes, "image.jp2");
    ADD_FAILURE() << "a JPEG 2000 header was accepted without jp2k allowed";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::unsupported) << e.what();
    EXPECT_NE(std::string(e.what()).find("jp2k"), std::string::npos) << e.what();
  }
}
