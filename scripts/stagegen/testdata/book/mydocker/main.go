// Command main is a small program whose code grows over chapters a, b and c.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	//book:replace a b
	// fmt.Println(strconv.Itoa(len(os.Args)))
	//book:end
	//book:add b
	fmt.Println(strings.Join(os.Args, " "))
	//book:end
	//book:add c
	fmt.Println(extra())
	//book:end
}
