// Inputs the fuzzers (tests/fuzz/fuzz_kube_*.cpp) found; each once hit
// undefined behaviour (UBSan aborts the ASan build of these tests).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kube/crypto.hpp"
#include "kube/secret_files.hpp"
#include "kube/tokens.hpp"

namespace ramfleet::kube {
namespace {

// notAfter 99991231235959Z: RFC 5280's "no well-defined expiration", common
// in CAs made by other tools. Seconds since the epoch times 10^9 overflowed.
constexpr const char* kForeverCert = R"(-----BEGIN CERTIFICATE-----
MIIBEjCBuaADAgECAgEBMAoGCCqGSM49BAMCMBIxEDAOBgNVBAMMB2ZvcmV2ZXIw
IBcNMjQwMTAxMDAwMDAwWhgPOTk5OTEyMzEyMzU5NTlaMBIxEDAOBgNVBAMMB2Zv
cmV2ZXIwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQrWXilbHIcqu5E3yV3sEEe
Wyyxe45wyi0YvOjV+kTgEtL5DH8g0Z+jo6kZeRQoBy4WZpV8hWGwLVGIFpXgpeWy
MAoGCCqGSM49BAMCA0gAMEUCIA9X5mgSUkbkAEV44cGG0ihANsRNH/0BTheSr6CE
9XT8AiEA7Jyuy/sck3Rnif4cqdfBkEAxVE6gDlc7a2iThKSjrjE=
-----END CERTIFICATE-----
)";

TEST(KubeFuzzRegressions, CertificateExpiringIn9999IsFarFutureNotOverflow) {
  auto cert = certificate_from_pem(kForeverCert);
  EXPECT_EQ(not_after(*cert), Clock::time_point::max());
  EXPECT_GT(not_after(*cert), Clock::now());
}

TEST(KubeFuzzRegressions, TokenTimesPastYear2262AreAStateErrorNotOverflow) {
  auto dir = std::filesystem::temp_directory_path() / ("ramfleet-kube-fuzzreg-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokens.json")
      << R"({"tokens":[{"token":"abcdef.0123456789abcdef","created":1700000000,"expires":181699999999}]})";
  TokenStore store(dir);
  EXPECT_THROW(store.all(), StateError);
  std::filesystem::remove_all(dir);
}

TEST(KubeFuzzRegressions, EncryptedKeyIsAnErrorNotAPassphrasePrompt) {
  // OpenSSL's default passphrase callback read the terminal, or stdin when
  // there is none, and blocked until a line came.
  auto key = generate_key(KeyAlgorithm::ecdsa_p256);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(
      PEM_write_bio_PrivateKey(bio, key.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr, const_cast<char*>("secret")), 1);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  ASSERT_NE(pem.find("ENCRYPTED"), std::string::npos);

  // In a child with no terminal and a stdin that never ends.
  int in[2], out[2];
  ASSERT_EQ(::pipe(in), 0);
  ASSERT_EQ(::pipe(out), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    ::dup2(in[0], 0);
    char result = 'n';
    try {
      private_key_from_pem(pem);
    } catch (const CryptoError&) {
      result = 'e';
    }
    auto n = ::write(out[1], &result, 1);
    (void)n;
    ::_exit(0);
  }
  ::close(out[1]);
  pollfd p{out[0], POLLIN, 0};
  char result = 0;
  if (::poll(&p, 1, 20000) == 1) {
    ASSERT_EQ(::read(out[0], &result, 1), 1);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ::close(in[0]);
  ::close(in[1]);
  ::close(out[0]);
  EXPECT_EQ(result, 'e') << "blocked reading a passphrase (or no error)";
}

}  // namespace
}  // namespace ramfleet::kube
