// The credential file's text and the lookups the operator listener makes.
#include "auth/credential_book.hpp"

#include <gtest/gtest.h>

#include "auth/bearer.hpp"

namespace ramfleet::auth {
namespace {

Credential token(std::string name, http::Scope scope, std::string_view secret) {
  return Credential{CredentialKind::token, std::move(name), scope, token_digest(secret), 1700000000};
}

TEST(CredentialBook, RoundTripsThroughItsText) {
  CredentialBook book;
  ASSERT_FALSE(book.add(token("local-admin", http::Scope::admin, "rfop_a")));
  ASSERT_FALSE(book.add(token("ci.reader", http::Scope::read, "rfop_b")));
  ASSERT_FALSE(book.add(Credential{CredentialKind::cert, "laptop", http::Scope::read, sha256("der"), 5}));
  book.revoke("old", 1700000100);
  const std::string text = book.serialize();
  EXPECT_EQ(text.find("rfop_a"), std::string::npos) << "secrets are never stored";

  auto parsed = CredentialBook::parse(text);
  ASSERT_TRUE(std::holds_alternative<CredentialBook>(parsed));
  const auto& again = std::get<CredentialBook>(parsed);
  EXPECT_EQ(again.serialize(), text);
  EXPECT_EQ(again.credentials().size(), 3u);
  EXPECT_TRUE(again.is_revoked("old"));
  auto who = again.find_token(token_digest("rfop_b"));
  ASSERT_TRUE(who);
  EXPECT_EQ(who->name, "ci.reader");
  EXPECT_EQ(who->scope, http::Scope::read);
}

TEST(CredentialBook, FindsOnlyTokensByTheirSecret) {
  CredentialBook book;
  ASSERT_FALSE(book.add(token("a", http::Scope::admin, "rfop_secret")));
  ASSERT_FALSE(book.add(Credential{CredentialKind::cert, "c", http::Scope::admin, token_digest("rfop_cert"), 0}));
  EXPECT_TRUE(book.find_token(token_digest("rfop_secret")));
  EXPECT_FALSE(book.find_token(token_digest("rfop_secreT")));
  EXPECT_FALSE(book.find_token(token_digest("rfop_cert"))) << "a certificate's digest is no token";
}

TEST(CredentialBook, RevocationRemovesAndBarsTheName) {
  CredentialBook book;
  ASSERT_FALSE(book.add(token("ops", http::Scope::admin, "rfop_x")));
  EXPECT_TRUE(book.revoke("ops", 10));
  EXPECT_FALSE(book.find_token(token_digest("rfop_x")));
  EXPECT_TRUE(book.is_revoked("ops"));
  EXPECT_FALSE(book.revoke("ops", 11)) << "already revoked";
  auto err = book.add(token("ops", http::Scope::read, "rfop_y"));
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("revoked"), std::string::npos);
  // An unknown name can be barred ahead (a certificate made elsewhere), but says so.
  EXPECT_FALSE(book.revoke("never-seen", 12));
  EXPECT_TRUE(book.is_revoked("never-seen"));
}

TEST(CredentialBook, RefusesDuplicateAndInvalidNames) {
  CredentialBook book;
  ASSERT_FALSE(book.add(token("x", http::Scope::read, "1")));
  EXPECT_TRUE(book.add(token("x", http::Scope::admin, "2")));
  for (const char* bad : {"", "-lead", "has space", "a/b", "é"})
    EXPECT_TRUE(book.add(token(bad, http::Scope::read, "3")));
  EXPECT_TRUE(book.add(token(std::string(65, 'a'), http::Scope::read, "4")));
  EXPECT_FALSE(book.add(token(std::string(64, 'a'), http::Scope::read, "5")));
}

TEST(CredentialBook, MalformedFilesNameTheLine) {
  for (const char* text : {"token a admin 00 1\n",
                           "token a root " /* scope */
                           "0000000000000000000000000000000000000000000000000000000000000000 1\n",
                           "# ok\nbogus a\n", "revoked\n", "token a read\n",
                           "token a read 0000000000000000000000000000000000000000000000000000000000000000 -1\n"}) {
    SCOPED_TRACE(text);
    auto parsed = CredentialBook::parse(text);
    ASSERT_TRUE(std::holds_alternative<BookError>(parsed));
    EXPECT_GE(std::get<BookError>(parsed).line, 1u);
  }
  auto two = CredentialBook::parse("# c\n\nbogus\n");
  ASSERT_TRUE(std::holds_alternative<BookError>(two));
  EXPECT_EQ(std::get<BookError>(two).line, 3u);
}

TEST(CredentialBook, ARevokedLineWinsOverAHandEditedCredential) {
  auto parsed = CredentialBook::parse("revoked ops 1\ntoken ops admin " + std::string(64, '0') + " 1\n");
  // token after revoked is refused as a reuse of the name
  EXPECT_TRUE(std::holds_alternative<BookError>(parsed));
  auto other = CredentialBook::parse("token ops admin " + std::string(64, '0') + " 1\nrevoked ops 1\n");
  ASSERT_TRUE(std::holds_alternative<CredentialBook>(other));
  EXPECT_TRUE(std::get<CredentialBook>(other).credentials().empty());
}

TEST(Bearer, ParsesTheHeader) {
  auto ok = parse_bearer("Bearer rfop_abc-_.~+/=");
  ASSERT_TRUE(std::holds_alternative<std::string_view>(ok));
  EXPECT_EQ(std::get<std::string_view>(ok), "rfop_abc-_.~+/=");
  EXPECT_EQ(std::get<std::string_view>(parse_bearer("bearer   tok ")), "tok");
  EXPECT_EQ(std::get<BearerError>(parse_bearer("Basic dXNlcjpwYXNz")), BearerError::not_bearer);
  EXPECT_EQ(std::get<BearerError>(parse_bearer("Bearer")), BearerError::not_bearer);
  EXPECT_EQ(std::get<BearerError>(parse_bearer("Bearertok")), BearerError::not_bearer);
  EXPECT_EQ(std::get<BearerError>(parse_bearer("Bearer  ")), BearerError::bad_token);
  EXPECT_EQ(std::get<BearerError>(parse_bearer("Bearer a b")), BearerError::bad_token);
  EXPECT_EQ(std::get<BearerError>(parse_bearer("Bearer a\x01")), BearerError::bad_token);
  EXPECT_EQ(std::get<BearerError>(parse_bearer("Bearer " + std::string(300, 'a'))), BearerError::too_long);
}

TEST(Bearer, MintsDistinctUrlSafeTokens) {
  const auto a = mint_token();
  const auto b = mint_token();
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.starts_with(kTokenPrefix));
  EXPECT_EQ(a.size(), kTokenPrefix.size() + 43);
  const std::string header = "Bearer " + a;  // parse_bearer returns a view into it
  auto parsed = parse_bearer(header);
  ASSERT_TRUE(std::holds_alternative<std::string_view>(parsed));
  EXPECT_EQ(std::get<std::string_view>(parsed), a);
}

}  // namespace
}  // namespace ramfleet::auth
