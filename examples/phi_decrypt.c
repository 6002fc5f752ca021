/* The PHI job of the key-release demo: decrypts an extract that is kept
 * encrypted at rest with the key the verifier releases only to a launch that
 * passes its policy, and writes what it found.
 *
 *   fd 0  the encrypted extract (read): 16-byte IV, then AES-256-CBC with
 *         PKCS#7 padding (what `openssl enc -aes-256-cbc -K KEY -iv IV` writes
 *         after the IV)
 *   fd 5  the key (read): 32 bytes, in the sealed memfd fdlaunch filled from
 *         the verifier's answer (docs/launcher.md)
 *   fd 1  the result (write): "records N\nsha256 HEX\n" of the plaintext
 *   fd 2  the audit log (append): one line
 *
 * Static (libcrypto.a), like every workload fdlaunch runs. Uses read(2) and
 * write(2) on its declared fds only: no open, no path. Exits 0 when the
 * extract decrypted, 1 otherwise (a wrong key fails the padding check or
 * yields garbage the caller's checksum does not match).
 *
 *   demo_phi_decrypt [--linger SECONDS]
 *
 * With --linger, stays alive that long (at most an hour) after writing its
 * result, as a long-running job would, so that it can be re-attested while it
 * runs (`fdlaunch attest`, docs/launcher.md).
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { kKeyFd = 5, kInFd = 0, kOutFd = 1, kAuditFd = 2, kKeyBytes = 32, kIvBytes = 16 };

static int ReadFull(int fd, unsigned char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static void WriteAll(int fd, const char* s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

static void Say(int fd, const char* s) { WriteAll(fd, s, strlen(s)); }

int main(int argc, char** argv) {
  long linger = 0;
  if (argc == 3 && strcmp(argv[1], "--linger") == 0) {
    char* end = NULL;
    linger = strtol(argv[2], &end, 10);
    if (end == argv[2] || *end != '\0' || linger < 0 || linger > 3600) return 2;
  } else if (argc != 1) {
    return 2;
  }
  unsigned char key[kKeyBytes + 1], iv[kIvBytes];
  /* Exactly 32 bytes: a 33rd byte means this is not the key. */
  ssize_t key_len = read(kKeyFd, key, sizeof key);
  if (key_len != kKeyBytes) {
    Say(kAuditFd, "phi_decrypt: no 32-byte key on fd 5\n");
    return 1;
  }
  if (ReadFull(kInFd, iv, sizeof iv) != 0) {
    Say(kAuditFd, "phi_decrypt: the extract has no IV\n");
    return 1;
  }
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  if (ctx == NULL || md == NULL || EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv) != 1 ||
      EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
    return 1;
  }
  OPENSSL_cleanse(key, sizeof key);
  unsigned char in[4096], out[4096 + 32];
  long records = 0;
  int len;
  ssize_t n;
  while ((n = read(kInFd, in, sizeof in)) > 0) {
    if (EVP_DecryptUpdate(ctx, out, &len, in, (int)n) != 1) return 1;
    EVP_DigestUpdate(md, out, (size_t)len);
    for (int i = 0; i < len; ++i) records += out[i] == '\n';
  }
  if (n < 0 || EVP_DecryptFinal_ex(ctx, out, &len) != 1) {
    Say(kAuditFd, "phi_decrypt: the extract does not decrypt with this key\n");
    return 1;
  }
  EVP_DigestUpdate(md, out, (size_t)len);
  for (int i = 0; i < len; ++i) records += out[i] == '\n';
  unsigned char digest[32];
  unsigned int dlen = 0;
  EVP_DigestFinal_ex(md, digest, &dlen);
  char line[128];
  char* p = line;
  memcpy(p, "records ", 8);
  p += 8;
  char num[24];
  int k = 0;
  do {
    num[k++] = (char)('0' + records % 10);
    records /= 10;
  } while (records > 0);
  while (k > 0) *p++ = num[--k];
  memcpy(p, "\nsha256 ", 8);
  p += 8;
  static const char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < dlen; ++i) {
    *p++ = kHex[digest[i] >> 4];
    *p++ = kHex[digest[i] & 15];
  }
  *p++ = '\n';
  WriteAll(kOutFd, line, (size_t)(p - line));
  Say(kAuditFd, "phi_decrypt: extract decrypted\n");
  EVP_CIPHER_CTX_free(ctx);
  EVP_MD_CTX_free(md);
  struct timespec rest = {.tv_sec = linger, .tv_nsec = 0};
  while (nanosleep(&rest, &rest) != 0) {
  }
  return 0;
}
