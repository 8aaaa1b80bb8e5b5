// Generated documentation in the source tree must match what the binary generates now.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_support.hpp"

using namespace imgpipe;

TEST(Docs, OperationsMarkdownIsUpToDate) {
  const auto path = test::source_dir() / "docs" / "operations.md";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing; create it with\n"
                  << "  <build>/tools/imgpipe/imgpipe ops --markdown > docs/operations.md";
  std::ostringstream committed;
  committed << in.rdbuf();
  const auto generated = test::run_cli({"ops", "--markdown"});
  ASSERT_EQ(generated.exit_code, 0) << generated.err;
  EXPECT_TRUE(committed.str() == generated.out)
      << path << " is out of date with the operation registry; regenerate it with\n"
      << "  <build>/tools/imgpipe/imgpipe ops --markdown > docs/operations.md";
}

TEST(Docs, PresetsTableIsInOperationsMarkdown) {
  const auto path = test::source_dir() / "docs" / "operations.md";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing";
  std::ostringstream committed;
  committed << in.rdbuf();
  const auto table = test::run_cli({"ops", "--presets"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(committed.str().find(table.out), std::string::npos)
      << "`imgpipe ops --presets` is not the table in " << path << "; regenerate it with\n"
      << "  <build>/tools/imgpipe/imgpipe ops --markdown > docs/operations.md";
}
