package httpapi

import (
	"encoding/json"
	"testing"
)

func TestJSONID(t *testing.T) {
	for in, want := range map[string]string{
		"": "null", "0": "0", "555567088": "555567088", "000003873472": `"000003873472"`,
		"1234567890123456": `"1234567890123456"`, "9f3a": `"9f3a"`, "-1": `"-1"`,
	} {
		b, err := json.Marshal(jsonID(in))
		if err != nil || string(b) != want {
			t.Errorf("jsonID(%q) = %s, %v; want %s", in, b, err, want)
		}
	}
}
