// Maildrop files: what encode writes decodes the same; every malformed file is refused with a
// reason; drop_message leaves one file, under a name without a dot, with mode 0640 (the
// maildrop's group, the daemon's, reads it).
#include "spool/maildrop.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tern::spool {
namespace {

MaildropMessage sample() {
    MaildropMessage m;
    m.sender = "app@example.org";
    m.recipients = {"alice@localhost", "\"b c\"@example.net"};
    m.notify = "SUCCESS,FAILURE";
    m.ret = "HDRS";
    m.envid = "job+2B42";
    m.text = "Subject: s\r\n\r\nbody\r\nTERNDROP 1\r\nrcpt <x@y>\r\n";
    return m;
}

TEST(Maildrop, RoundTrip) {
    auto m = sample();
    auto back = decode_maildrop(encode_maildrop(m));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->sender, m.sender);
    EXPECT_EQ(back->recipients, m.recipients);
    EXPECT_EQ(back->notify, m.notify);
    EXPECT_EQ(back->ret, m.ret);
    EXPECT_EQ(back->envid, m.envid);
    EXPECT_EQ(back->text, m.text);
    m.sender.clear();  // <>
    EXPECT_EQ(decode_maildrop(encode_maildrop(m))->sender, "");
}

TEST(Maildrop, MalformedFilesAreRefused) {
    for (auto [bytes, why] : std::initializer_list<std::pair<std::string_view, std::string_view>>{
             {"", "no empty line"},
             {"TERNDROP 2\nsender <>\nrcpt <a@b>\n\nx", "version 1"},
             {"TERNDROP 1\nrcpt <a@b>\n\nx", "no sender"},
             {"TERNDROP 1\nsender <>\n\nx", "no recipient"},
             {"TERNDROP 1\nsender <>\nrcpt a@b\n\nx", "without <...>"},
             {"TERNDROP 1\nsender <>\nrcpt <>\n\nx", "empty recipient"},
             {"TERNDROP 1\nsender <>\nsender <>\nrcpt <a@b>\n\nx", "two sender"},
             {"TERNDROP 1\nsender <>\nrcpt <a@b>\nqueue now\n\nx", "unknown line"},
             {"TERNDROP 1\nsender <a\rb>\nrcpt <a@b>\n\nx", "control character"},
             {"TERNDROP 1\nsender <>\nrcpt <a@b>", "no empty line"}}) {
        auto r = decode_maildrop(bytes);
        ASSERT_FALSE(r) << bytes;
        EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
    }
}

TEST(Maildrop, DropWritesOneDurableFile) {
    auto dir =
        std::filesystem::temp_directory_path() / ("tern-maildrop-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto name = drop_message(dir.string(), sample());
    ASSERT_TRUE(name) << name.error().message;
    EXPECT_NE(name->front(), '.');
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        names.push_back(e.path().filename().string());
    EXPECT_EQ(names, std::vector<std::string>{*name});
    struct stat st {};
    ASSERT_EQ(::stat((dir / *name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    std::ifstream in(dir / *name, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), encode_maildrop(sample()));
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tern::spool
