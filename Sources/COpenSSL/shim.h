#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

// OpenSSL 3 (Debian 12). Swift cannot call function-like macros: wrap the ones jobctl needs.
static inline long COpenSSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline int COpenSSL_CTX_set_min_tls12(SSL_CTX *context) {
    return (int)SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
}
static inline long COpenSSL_set_moving_buffer_mode(SSL *ssl) {
    return SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
}
static const int COpenSSL_ERROR_WANT_READ = SSL_ERROR_WANT_READ;
static const int COpenSSL_ERROR_WANT_WRITE = SSL_ERROR_WANT_WRITE;
static const int COpenSSL_ERROR_ZERO_RETURN = SSL_ERROR_ZERO_RETURN;
static const int COpenSSL_ERROR_SYSCALL = SSL_ERROR_SYSCALL;
static const int COpenSSL_VERIFY_PEER = SSL_VERIFY_PEER;
static const int COpenSSL_VERIFY_NONE = SSL_VERIFY_NONE;
static const int COpenSSL_FILETYPE_PEM = SSL_FILETYPE_PEM;

// The DNS names and IP addresses a peer certificate names (subjectAltName, else the common name), comma-separated
// into `out`; for messages when the host name does not match.
static inline void COpenSSL_certificate_names(X509 *cert, char *out, size_t capacity) {
    if (capacity == 0) return;
    out[0] = 0;
    if (cert == NULL) return;
    size_t used = 0;
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int count = names ? sk_GENERAL_NAME_num(names) : 0;
    for (int i = 0; i < count; i++) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
        char text[256];
        text[0] = 0;
        if (name->type == GEN_DNS) {
            int length = ASN1_STRING_length(name->d.dNSName);
            if (length > 0 && length < (int)sizeof(text)) {
                memcpy(text, ASN1_STRING_get0_data(name->d.dNSName), (size_t)length);
                text[length] = 0;
            }
        } else if (name->type == GEN_IPADD) {
            const unsigned char *ip = ASN1_STRING_get0_data(name->d.iPAddress);
            if (ASN1_STRING_length(name->d.iPAddress) == 4)
                snprintf(text, sizeof(text), "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
            else
                snprintf(text, sizeof(text), "an IPv6 address");
        }
        if (text[0] == 0) continue;
        int written = snprintf(out + used, capacity - used, "%s%s", used ? ", " : "", text);
        if (written < 0 || (size_t)written >= capacity - used) break;
        used += (size_t)written;
    }
    if (names) GENERAL_NAMES_free(names);
    if (used == 0) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, out, (int)capacity);
    }
}

// The names in the certificate that failed the host name check, written by the verify callback into the buffer of
// `capacity` 1024 that the caller set with COpenSSL_keep_mismatched_names.
static inline int COpenSSL_verify_callback(int ok, X509_STORE_CTX *store) {
    if (!ok) {
        int error = X509_STORE_CTX_get_error(store);
        if (error == X509_V_ERR_HOSTNAME_MISMATCH || error == X509_V_ERR_IP_ADDRESS_MISMATCH) {
            SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
            char *out = ssl ? SSL_get_ex_data(ssl, 0) : NULL;
            if (out) COpenSSL_certificate_names(X509_STORE_CTX_get_current_cert(store), out, 1024);
        }
    }
    return ok;
}

static inline void COpenSSL_verify_peer(SSL_CTX *context) {
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, COpenSSL_verify_callback);
}

static inline int COpenSSL_keep_mismatched_names(SSL *ssl, char *buffer) { return SSL_set_ex_data(ssl, 0, buffer); }
#endif
