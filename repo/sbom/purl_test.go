package sbom

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rootfsd/rootfsd/repo"
)

func TestPackageURL(t *testing.T) {
	noble := planSubject(&repo.Plan{Family: repo.FamilyDeb, Distro: "ubuntu:24.04"})
	bookworm := planSubject(&repo.Plan{Family: repo.FamilyDeb, Distro: "debian:12"})
	alpine := planSubject(&repo.Plan{Family: repo.FamilyAPK, Distro: "alpine:3.19"})
	unknown := planSubject(&repo.Plan{Family: repo.FamilyDeb, Distro: "devuan:daedalus"})
	tests := []struct {
		name               string
		sub                subject
		pkg, version, arch string
		want               string
	}{
		{"plain", noble, "bash", "5.2.21-2ubuntu4", "amd64", "pkg:deb/ubuntu/bash@5.2.21-2ubuntu4?arch=amd64&distro=noble"},
		{"epoch keeps its colon", bookworm, "libcrypt1", "1:4.4.33-2", "amd64", "pkg:deb/debian/libcrypt1@1:4.4.33-2?arch=amd64&distro=bookworm"},
		{"plus is encoded", bookworm, "libstdc++6", "12.2.0-14+deb12u1", "amd64", "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14%2Bdeb12u1?arch=amd64&distro=bookworm"},
		{"tilde stays", noble, "openssl", "3.0.13-0ubuntu3~24.04.1", "amd64", "pkg:deb/ubuntu/openssl@3.0.13-0ubuntu3~24.04.1?arch=amd64&distro=noble"},
		{"arch all", noble, "ca-certificates", "20240203", "all", "pkg:deb/ubuntu/ca-certificates@20240203?arch=all&distro=noble"},
		{"apk", alpine, "musl", "1.2.4_git20230717-r4", "x86_64", "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64"},
		{"apk no arch", alpine, "busybox", "1.36.1-r19", "", "pkg:apk/alpine/busybox@1.36.1-r19"},
		{"distro not in catalog", unknown, "x", "1", "amd64", "pkg:deb/devuan/x@1?arch=amd64&distro=daedalus"},
		{"hostile bytes", noble, "a/b?c#d", "1@2 3%", "amd64", "pkg:deb/ubuntu/a%2Fb%3Fc%23d@1%402%203%25?arch=amd64&distro=noble"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := packageURL(tc.sub, tc.pkg, tc.version, tc.arch)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("packageURL (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAPKChecksum(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		// busybox 1.36.1-r19 from the Alpine 3.19 index.
		{in: "Q1RWLMZH10kdz0zUmHb2dljdFhLlQ=", want: "4562cc647d7491dcf4cd49876f67658dd1612e54"},
		{in: "Q16vHLRZoP2NZ2lLj3reL8p+l/YE4=", want: "eaf1cb459a0fd8d67694b8f7ade2fca7e97f604e"},
		{in: "Q2" + "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", want: ""}, // SHA256 of the control stream: not recorded
		{in: "Q1short", wantErr: true},
		{in: "Q1!!!!", wantErr: true},
		{in: "Q2RWLMZH10kdz0zUmHb2dljdFhLlQ=", wantErr: true}, // 20 bytes is not a SHA256
		{in: "4562cc6647d74a477cf4a1998dbd9a7637584b95", wantErr: true},
		{in: "Q", wantErr: true},
	}
	for _, tc := range tests {
		got, err := apkChecksum(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("apkChecksum(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if got != tc.want {
			t.Errorf("apkChecksum(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"spdx": FormatSPDX, "SPDX-JSON": FormatSPDX, "cyclonedx": FormatCycloneDX, "cdx": FormatCycloneDX} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("swid"); err == nil {
		t.Error("ParseFormat(swid): no error")
	}
	if FormatSPDX.MediaType() != "application/spdx+json" || FormatCycloneDX.MediaType() != "application/vnd.cyclonedx+json" {
		t.Error("media types")
	}
}
