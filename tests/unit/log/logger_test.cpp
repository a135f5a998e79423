// Unit tests of the logger's file handling (log/logger.h): lines reach the file, and reopen()
// follows a rotation (the file renamed away, a new one made at the path) without losing a line.
#include "log/logger.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "test_files.h"

namespace tern::log {
namespace {

TEST(Logger, ReopenFollowsARotatedFile) {
    testing::TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    std::string path = dir.path() + "/tern.log";
    Logger log(Format::kText, Level::kInfo, path);
    log.info("first", {{"n", 1}});
    std::filesystem::rename(path, path + ".1");  // what logrotate does
    log.info("second", {{"n", 2}});              // still the renamed file
    ASSERT_TRUE(log.reopen());
    log.info("third", {{"n", 3}});

    std::string old_file = testing::read_file(path + ".1");
    std::string new_file = testing::read_file(path);
    EXPECT_NE(old_file.find("first n=1"), std::string::npos) << old_file;
    EXPECT_NE(old_file.find("second n=2"), std::string::npos) << old_file;
    EXPECT_EQ(old_file.find("third"), std::string::npos) << old_file;
    EXPECT_NE(new_file.find("third n=3"), std::string::npos) << new_file;
    EXPECT_EQ(new_file.find("first"), std::string::npos) << new_file;
}

TEST(Logger, AFailedReopenKeepsTheOldFile) {
    testing::TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    std::string sub = dir.path() + "/logs";
    std::filesystem::create_directory(sub);
    std::string path = sub + "/tern.log";
    Logger log(Format::kJson, Level::kInfo, path);
    log.info("before", {});
    // The path cannot be made again: its directory is now a plain file.
    std::filesystem::rename(sub, dir.path() + "/gone");
    std::ofstream(sub) << "not a directory";
    auto r = log.reopen();
    ASSERT_FALSE(r);
    EXPECT_FALSE(r.error().message.empty());
    log.info("after", {});
    std::string kept = testing::read_file(dir.path() + "/gone/tern.log");
    EXPECT_NE(kept.find("\"event\":\"before\""), std::string::npos) << kept;
    EXPECT_NE(kept.find("\"event\":\"after\""), std::string::npos) << kept;
}

TEST(Logger, ReopenOnStandardErrorDoesNothing) {
    Logger log(Format::kText, Level::kInfo);
    EXPECT_TRUE(log.reopen());
}

}  // namespace
}  // namespace tern::log
