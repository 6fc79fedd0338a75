package config

import (
	"reflect"
	"testing"
)

// Every documented variable reaches its field: each set to a marker alone.
func TestEveryVariableSetsItsField(t *testing.T) {
	for _, f := range Fields() {
		var file File
		v := "marker"
		switch f.Kind {
		case "bool":
			v = "false"
		case "list":
			v = "a,b"
		}
		lookup := func(k string) (string, bool) {
			if k == f.Env {
				return v, true
			}
			return "", false
		}
		if p := applyEnv(&file, lookup); len(p) > 0 {
			t.Errorf("%s: %v", f.Env, p)
		}
		if got := fieldByIndex(reflect.ValueOf(&file).Elem(), f.idx); got.IsZero() {
			t.Errorf("%s did not set %s", f.Env, f.Path)
		}
	}
}
