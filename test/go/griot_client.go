// A Go client of Griot, for the cross-language test (test/go-client.test.ts).
//
// The test generates the stubs from proto/ at run time (Debian's protoc,
// protoc-gen-go and protoc-gen-go-grpc) into a temporary GOPATH, as the
// packages griotpb/content/v1 and griotpb/registry/v1, and builds this
// program offline in GOPATH mode against Debian's Go packages. With no Griot
// code of its own, it:
//
//  1. uploads random bytes to the content store (UploadBlob) with two cuts: it
//     closes its first stream without finish_write, and continues from the
//     committed size the server answers; then it cancels its second stream
//     mid-way, once the server has made some of it durable, and resumes from
//     the committed size GetUploadStatus reports, as a client that lost its
//     connection does;
//  2. reads the blob back whole and as a range (ReadContent) and checks the
//     bytes and their SHA-256;
//  3. lists the packages its author identity signed (ListPackages).
//
// It signs its own caller tokens, as the README's "Security model" describes
// them, with the Ed25519 seed it is given: a fresh token on every call.
//
// Configuration, from the environment: GRIOT_CONTENT_ADDR and
// GRIOT_REGISTRY_ADDR (host:port), GRIOT_AUTHOR_SEED (the author's 32-byte
// Ed25519 seed, in hex). It prints one JSON object with what it saw.
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contentv1 "griotpb/content/v1"
	registryv1 "griotpb/registry/v1"
)

const (
	contentAudience  = "griot-content"
	registryAudience = "griot-registry"
	blobSize         = 1024*1024 + 17
	chunkSize        = 64 * 1024
)

// identity is an Ed25519 did:key that signs caller tokens.
type identity struct {
	key ed25519.PrivateKey
	did string
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58btc encodes bytes in the Bitcoin base58 alphabet, each leading zero byte as "1".
func base58btc(data []byte) string {
	number := new(big.Int).SetBytes(data)
	base := big.NewInt(58)
	digit := new(big.Int)
	var out []byte
	for number.Sign() > 0 {
		number.DivMod(number, base, digit)
		out = append(out, base58Alphabet[digit.Int64()])
	}
	for _, b := range data {
		if b != 0 {
			break
		}
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

// newIdentity is the did:key identity of an Ed25519 seed.
func newIdentity(seed []byte) identity {
	key := ed25519.NewKeyFromSeed(seed)
	// did:key:z + base58btc(multicodec ed25519-pub, 0xed 0x01, then the 32-byte key).
	public := key.Public().(ed25519.PublicKey)
	return identity{key: key, did: "did:key:z" + base58btc(append([]byte{0xed, 0x01}, public...))}
}

// b64url is base64url without padding, as JWTs use it.
func b64url(data []byte) string { return base64.RawURLEncoding.EncodeToString(data) }

// jsonPart is one JSON part of a JWT.
func jsonPart(value interface{}) string {
	encoded, err := json.Marshal(value)
	if err != nil {
		panic(err)
	}
	return b64url(encoded)
}

// randomUUID is a version 4 UUID.
func randomUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// token is a fresh caller token: an EdDSA JWT with header {alg, typ, kid} and
// claims {iss, sub, aud, iat, exp, jti}, iss and sub both the caller's did:key.
func (id identity) token(audience string) string {
	header := struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
		Kid string `json:"kid"`
	}{"EdDSA", "JWT", id.did + "#" + strings.TrimPrefix(id.did, "did:key:")}
	now := time.Now().Unix()
	claims := struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Aud string `json:"aud"`
		Iat int64  `json:"iat"`
		Exp int64  `json:"exp"`
		Jti string `json:"jti"`
	}{id.did, id.did, audience, now, now + 60, randomUUID()}
	signingInput := jsonPart(header) + "." + jsonPart(claims)
	return signingInput + "." + b64url(ed25519.Sign(id.key, []byte(signingInput)))
}

// callerTokens puts a fresh caller token on every call of a connection.
type callerTokens struct {
	identity identity
	audience string
}

// GetRequestMetadata mints the call's token.
func (c callerTokens) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + c.identity.token(c.audience)}, nil
}

// RequireTransportSecurity is false: the test talks to the services in plain text on the loopback.
func (callerTokens) RequireTransportSecurity() bool { return false }

// dial connects in plain text, waiting until the connection is up.
func dial(address string, tokens callerTokens) *grpc.ClientConn {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, address, grpc.WithInsecure(), grpc.WithBlock(), grpc.WithPerRPCCredentials(tokens))
	check(err, "dial "+address)
	return conn
}

// check ends the program on an error, saying what it was doing.
func check(err error, doing string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", doing, err)
		os.Exit(1)
	}
}

// uploadReport is what the upload saw.
type uploadReport struct {
	UploadID string `json:"upload_id"`
	Size     int    `json:"size"`
	SHA256   string `json:"sha256"`
	// The committed size the server answered when the first stream closed without finish_write.
	ClosedAt int64 `json:"closed_at"`
	// How far the second stream had sent when it was cancelled.
	SentBeforeCancel int64 `json:"sent_before_cancel"`
	// The offset the last stream resumed from, the committed size after the cancel.
	ResumedFrom int64 `json:"resumed_from"`
	// How many streams the resume took (the cancelled stream may still hold the upload for a moment).
	ResumeAttempts int    `json:"resume_attempts"`
	Complete       bool   `json:"complete"`
	CommittedSize  int64  `json:"committed_size"`
	BlobSHA256     string `json:"blob_sha256"`
	BlobSize       int64  `json:"blob_size"`
}

// send writes data[from:to] to an open upload stream in chunks; start goes in the first message.
func send(stream contentv1.ContentService_UploadBlobClient, start *contentv1.UploadStart, data []byte, from, to int, finish bool) error {
	if from == to {
		return stream.Send(&contentv1.UploadBlobRequest{Start: start, Offset: int64(from), FinishWrite: finish})
	}
	for offset := from; offset < to; offset += chunkSize {
		end := offset + chunkSize
		if end > to {
			end = to
		}
		request := &contentv1.UploadBlobRequest{Offset: int64(offset), Data: data[offset:end], FinishWrite: finish && end == to}
		if offset == from {
			request.Start = start
		}
		if err := stream.Send(request); err != nil {
			return err
		}
	}
	return nil
}

// upload sends data with two cuts and a resume (see the file's comment).
func upload(store contentv1.ContentServiceClient, data []byte) uploadReport {
	digest := sha256.Sum256(data)
	report := uploadReport{UploadID: randomUUID(), Size: len(data), SHA256: hex.EncodeToString(digest[:])}
	size := int64(len(data))
	start := &contentv1.UploadStart{UploadId: report.UploadID, Sha256: report.SHA256, Size: &size}
	resume := &contentv1.UploadStart{UploadId: report.UploadID}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Cut 1: a quarter of the bytes, then close without finish_write; the server answers what it committed.
	first, err := store.UploadBlob(ctx)
	check(err, "open the first upload stream")
	check(send(first, start, data, 0, len(data)/4, false), "send the first part")
	closed, err := first.CloseAndRecv()
	check(err, "close the first upload stream")
	if closed.Complete {
		check(errors.New("complete after a stream without finish_write"), "close the first upload stream")
	}
	report.ClosedAt = closed.CommittedSize

	// Cut 2: send up to three quarters, wait until the server has made part of it durable, then go away.
	streamCtx, cancelStream := context.WithCancel(ctx)
	second, err := store.UploadBlob(streamCtx)
	check(err, "open the second upload stream")
	to := 3 * len(data) / 4
	check(send(second, resume, data, int(closed.CommittedSize), to, false), "send the second part")
	report.SentBeforeCancel = int64(to)
	for {
		got, err := store.GetUploadStatus(ctx, &contentv1.GetUploadStatusRequest{UploadId: report.UploadID})
		check(err, "ask the upload's status while the second stream is open")
		if got.CommittedSize > closed.CommittedSize {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancelStream()
	_, err = second.CloseAndRecv()
	if status.Code(err) != codes.Canceled {
		check(fmt.Errorf("want CANCELLED, got %v", err), "cancel the second upload stream")
	}

	// Resume from the committed size the server reports. The cancelled stream
	// may still hold the upload (ABORTED), or commit more after we asked
	// (OUT_OF_RANGE): ask again and retry, as a client does.
	for report.ResumeAttempts = 1; ; report.ResumeAttempts++ {
		got, err := store.GetUploadStatus(ctx, &contentv1.GetUploadStatusRequest{UploadId: report.UploadID})
		check(err, "ask the upload's status after the cancel")
		report.ResumedFrom = got.CommittedSize
		stream, err := store.UploadBlob(ctx)
		check(err, "open the resuming upload stream")
		err = send(stream, resume, data, int(got.CommittedSize), len(data), true)
		var done *contentv1.UploadBlobResponse
		if err == nil || err == io.EOF {
			done, err = stream.CloseAndRecv()
		}
		code := status.Code(err)
		if err != nil && (code == codes.Aborted || code == codes.OutOfRange) && report.ResumeAttempts < 100 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		check(err, "resume the upload")
		report.Complete = done.Complete
		report.CommittedSize = done.CommittedSize
		report.BlobSHA256 = done.GetBlob().GetSha256()
		report.BlobSize = done.GetBlob().GetSize()
		return report
	}
}

// readReport is what a read saw.
type readReport struct {
	Offset      int64  `json:"offset"`
	Limit       int64  `json:"limit"`
	Size        int    `json:"size"`
	TotalSize   int64  `json:"total_size"`
	FirstOffset int64  `json:"first_offset"`
	Messages    int    `json:"messages"`
	SHA256      string `json:"sha256"`
	Matches     bool   `json:"matches"`
}

// read reads a blob from offset, limit bytes or to its end when 0, and compares the bytes with want.
func read(store contentv1.ContentServiceClient, digest string, offset, limit int64, want []byte) readReport {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stream, err := store.ReadContent(ctx, &contentv1.ReadContentRequest{
		Target: &contentv1.ReadContentRequest_Blob{Blob: &contentv1.BlobRef{Sha256: digest}},
		Offset: offset,
		Limit:  limit,
	})
	check(err, "start a read")
	report := readReport{Offset: offset, Limit: limit}
	var received []byte
	for {
		message, err := stream.Recv()
		if err == io.EOF {
			break
		}
		check(err, "read")
		if report.Messages == 0 {
			report.TotalSize = message.TotalSize
			report.FirstOffset = message.Offset
		}
		report.Messages++
		received = append(received, message.Data...)
	}
	sum := sha256.Sum256(received)
	report.Size = len(received)
	report.SHA256 = hex.EncodeToString(sum[:])
	report.Matches = bytes.Equal(received, want)
	return report
}

// listedPackage is one package ListPackages answered.
type listedPackage struct {
	PackageID string `json:"package_id"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	AuthorDID string `json:"author_did"`
}

// listPackages lists the first page of the packages the author signed.
func listPackages(registry registryv1.RegistryServiceClient, author string) []listedPackage {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	listed, err := registry.ListPackages(ctx, &registryv1.ListPackagesRequest{AuthorDid: author, PageSize: 10})
	check(err, "list packages")
	packages := []listedPackage{}
	for _, p := range listed.Packages {
		fields := p.GetManifest().GetFields()
		packages = append(packages, listedPackage{
			PackageID: p.PackageId,
			Name:      fields["name"].GetStringValue(),
			Version:   fields["version"].GetStringValue(),
			AuthorDID: p.AuthorDid,
		})
	}
	return packages
}

func main() {
	seed, err := hex.DecodeString(os.Getenv("GRIOT_AUTHOR_SEED"))
	check(err, "read GRIOT_AUTHOR_SEED")
	if len(seed) != ed25519.SeedSize {
		check(fmt.Errorf("want %d bytes, got %d", ed25519.SeedSize, len(seed)), "read GRIOT_AUTHOR_SEED")
	}
	author := newIdentity(seed)

	data := make([]byte, blobSize)
	_, err = rand.Read(data)
	check(err, "make random bytes")

	contentConn := dial(os.Getenv("GRIOT_CONTENT_ADDR"), callerTokens{author, contentAudience})
	defer contentConn.Close()
	store := contentv1.NewContentServiceClient(contentConn)
	uploaded := upload(store, data)
	whole := read(store, uploaded.SHA256, 0, 0, data)
	ranged := read(store, uploaded.SHA256, 1000, 5000, data[1000:6000])

	registryConn := dial(os.Getenv("GRIOT_REGISTRY_ADDR"), callerTokens{author, registryAudience})
	defer registryConn.Close()
	packages := listPackages(registryv1.NewRegistryServiceClient(registryConn), author.did)

	out, err := json.Marshal(map[string]interface{}{
		"author_did": author.did,
		"upload":     uploaded,
		"read":       whole,
		"range":      ranged,
		"packages":   packages,
	})
	check(err, "encode the result")
	fmt.Println(string(out))
}
