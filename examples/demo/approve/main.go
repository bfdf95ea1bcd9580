// Command approve does what a person does in the browser during the demo:
// it opens the emulator's device page, types the user code and presses
// Authorize (or Cancel), through the page's own form.
//
//	approve [-cancel] PAGE_URL USER_CODE
package main

import (
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/deviceflow/deviceflow/sdk/deviceflow/deviceflowtest"
)

func main() {
	cancel := flag.Bool("cancel", false, "press Cancel instead of Authorize")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: approve [-cancel] PAGE_URL USER_CODE")
		os.Exit(2)
	}
	if err := press(flag.Arg(0), flag.Arg(1), *cancel); err != nil {
		fmt.Fprintln(os.Stderr, "approve:", err)
		os.Exit(1)
	}
}

var message = regexp.MustCompile(`id="result" data-result="(\w+)"[^>]*>([^<]*)<`)

func press(page, code string, cancel bool) error {
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(page)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `id="device-form"`) {
		return fmt.Errorf("%s shows no device form", page)
	}
	action, want := deviceflowtest.ActionAuthorize, deviceflowtest.ResultAuthorized
	if cancel {
		action, want = deviceflowtest.ActionCancel, deviceflowtest.ResultCancelled
	}
	res, err = client.PostForm(page, url.Values{deviceflowtest.FieldUserCode: {code}, deviceflowtest.FieldAction: {action}})
	if err != nil {
		return err
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	m := message.FindStringSubmatch(string(body))
	if m == nil || m[1] != want {
		return fmt.Errorf("the page did not answer %s", want)
	}
	fmt.Printf("The page says: %s\n", html.UnescapeString(m[2]))
	return nil
}
