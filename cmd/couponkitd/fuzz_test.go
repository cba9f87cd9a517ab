package main

import (
	"strings"
	"testing"
)

// FuzzParseKeys: parseKeys never panics; what it accepts has names and
// secrets that are unique, secrets of at least minSecret characters
// without commas, known roles, and writing the keys back parses to the
// same keys.
func FuzzParseKeys(f *testing.F) {
	f.Add(testKeys)
	f.Add("a:checkout:0123456789abcdef:with:colons, ,b:till:fedcba9876543210")
	f.Add("a:operator:short")
	f.Add(":::,,")
	f.Fuzz(func(t *testing.T, s string) {
		keys, err := parseKeys(s)
		if err != nil {
			return
		}
		names, secrets := map[string]bool{}, map[string]bool{}
		var back []string
		for _, k := range keys {
			if k.Name == "" || strings.ContainsAny(k.Name, ":,") || names[k.Name] || secrets[string(k.Secret)] ||
				len(k.Secret) < minSecret || strings.Contains(string(k.Secret), ",") {
				t.Fatalf("parseKeys(%q) accepted %+v", s, k)
			}
			names[k.Name], secrets[string(k.Secret)] = true, true
			var role string
			for _, r := range []string{"operator", "checkout", "till"} {
				if got, _ := parseRole(r); got == k.Role {
					role = r
				}
			}
			if role == "" {
				t.Fatalf("parseKeys(%q): role %v", s, k.Role)
			}
			back = append(back, k.Name+":"+role+":"+string(k.Secret))
		}
		again, err := parseKeys(strings.Join(back, ","))
		if err != nil || len(again) != len(keys) {
			t.Fatalf("parseKeys of %q written back: %v, %d keys, want %d", s, err, len(again), len(keys))
		}
		for i := range keys {
			if again[i].Name != keys[i].Name || again[i].Role != keys[i].Role || string(again[i].Secret) != string(keys[i].Secret) {
				t.Fatalf("key %d written back: %+v, want %+v", i, again[i], keys[i])
			}
		}
	})
}
