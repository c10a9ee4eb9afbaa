//book:file proc

package container

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"reflect"
)

// The init's configuration crosses the config pipe in a format of our own,
// so that every byte arrives as it was sent. A Linux argument, path or
// hostname is any bytes but NUL, and need not be valid UTF-8; JSON would
// turn such bytes into U+FFFD. The standard library's gob keeps them, but
// costs about a millisecond of CPU per container (its package start-up and
// its type descriptions, in both processes, measured with perf stat). The format: a string is its length (a
// varint) and its bytes; a bool is one byte, 0 or 1; an unsigned number
// is a varint; a slice is its length
// and its elements; a struct is its fields in order. Both ends are the same
// program, so they agree on the order of the fields.

// maxWireString bounds what the init allocates for one string: far more
// than the kernel accepts for all of a command's arguments together.
const maxWireString = 16 << 20

func encodeConfig(cfg initConfig) []byte {
	//book:lab proc wire
	return appendValue(nil, reflect.ValueOf(cfg))
	//book:stub
	// // Lab proc, part 2 (labs/02-proc/README.md): encode the configuration
	// // so that every byte arrives as it was sent (appendValue). Until then it
	// // crosses as JSON, which turns bytes that are not UTF-8 into U+FFFD.
	// data, err := json.Marshal(cfg)
	// if err != nil {
	// 	panic(err)
	// }
	// return data
	//book:end
}

func appendValue(buf []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.String:
		buf = binary.AppendUvarint(buf, uint64(v.Len()))
		return append(buf, v.String()...)
	case reflect.Bool:
		if v.Bool() {
			return append(buf, 1)
		}
		return append(buf, 0)
	case reflect.Uint, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.AppendUvarint(buf, v.Uint())
	//book:add lifecycle
	// The container's record (restart.go) has signed numbers and optional
	// ones: a signed varint, and a pointer as a bool, then what it points to.
	case reflect.Int, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(buf, v.Int())
	case reflect.Pointer:
		if v.IsNil() {
			return append(buf, 0)
		}
		return appendValue(append(buf, 1), v.Elem())
	//book:end
	case reflect.Slice:
		buf = binary.AppendUvarint(buf, uint64(v.Len()))
		for i := range v.Len() {
			buf = appendValue(buf, v.Index(i))
		}
		return buf
	case reflect.Struct:
		for i := range v.NumField() {
			buf = appendValue(buf, v.Field(i))
		}
		return buf
	}
	panic(fmt.Sprintf("initConfig holds a %s: teach appendValue and readValue that kind", v.Type()))
}

func decodeConfig(r io.Reader) (initConfig, error) {
	//book:lab proc wire
	var cfg initConfig
	if err := readValue(bufio.NewReader(r), reflect.ValueOf(&cfg).Elem()); err != nil {
		return cfg, fmt.Errorf("reading the configuration from the parent: %w", err)
	}
	return cfg, nil
	//book:stub
	// // Lab proc, part 2 (labs/02-proc/README.md): read what encodeConfig
	// // wrote (readValue), and refuse damaged data.
	// var cfg initConfig
	// err := json.NewDecoder(r).Decode(&cfg)
	// return cfg, err
	//book:end
}

func readValue(r *bufio.Reader, v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		n, err := readLength(r, maxWireString)
		if err != nil {
			return err
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		v.SetString(string(b))
	case reflect.Bool:
		b, err := r.ReadByte()
		if err != nil {
			return err
		}
		v.SetBool(b == 1)
	case reflect.Uint, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return err
		}
		v.SetUint(n)
	//book:add lifecycle
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := binary.ReadVarint(r)
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Pointer:
		present, err := r.ReadByte()
		if err != nil || present == 0 {
			return err
		}
		v.Set(reflect.New(v.Type().Elem()))
		return readValue(r, v.Elem())
	//book:end
	case reflect.Slice:
		n, err := readLength(r, maxWireString)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil // an empty slice stays nil, as it was sent
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			if err := readValue(r, v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if err := readValue(r, v.Field(i)); err != nil {
				return err
			}
		}
	default:
		panic(fmt.Sprintf("initConfig holds a %s: teach appendValue and readValue that kind", v.Type()))
	}
	return nil
}

func readLength(r *bufio.Reader, most int) (int, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, err
	}
	if n > uint64(most) {
		return 0, fmt.Errorf("a length of %d bytes, more than the %d allowed: the data is damaged", n, most)
	}
	return int(n), nil
}
