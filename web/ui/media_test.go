package ui_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"

	"github.com/kith-p2p/kith/web/api"
)

// TestBrowserPreviewMedia opens an image and a sound on the Open page: the
// image decodes at its size, and the sound plays from the gateway and can
// be sought to the middle without downloading what comes before (the
// browser can only do that when the gateway answers Range requests).
func TestBrowserPreviewMedia(t *testing.T) {
	ctx := newBrowser(t)
	shots := artifacts(t)
	d := startDaemon(t, nil)
	d.login(t, ctx)

	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(4 * x), uint8(5 * y), 128, 255})
		}
	}
	var pngBytes bytes.Buffer
	if err := png.Encode(&pngBytes, img); err != nil {
		t.Fatal(err)
	}
	pic, err := d.c.Add(ctx, "gradient.png", files.NewBytesFile(pngBytes.Bytes()), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var width, height int
	err = chromedp.Run(ctx,
		chromedp.Navigate(d.base()+"/#/open/"+pic.Cid+"?name=gradient.png"),
		chromedp.Poll(`(() => { const i = document.querySelector('#preview img'); return !!i && i.complete && i.naturalWidth > 0; })()`,
			nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Evaluate(`document.querySelector('#preview img').naturalWidth`, &width),
		chromedp.Evaluate(`document.querySelector('#preview img').naturalHeight`, &height),
	)
	if err != nil {
		t.Fatalf("image preview: %v", err)
	}
	if width != 64 || height != 48 {
		t.Fatalf("image preview decoded %dx%d, want 64x48", width, height)
	}
	screenshot(t, ctx, shots, "preview-image")

	const seconds = 30
	sound, err := d.c.Add(ctx, "tone.wav", files.NewBytesFile(sineWAV(seconds, 44100, 440)), 0, api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Record the Range headers of the browser's requests for the sound.
	var mu sync.Mutex
	var ranges []string
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && strings.Contains(e.Request.URL, sound.Cid) {
			mu.Lock()
			ranges = append(ranges, fmt.Sprint(e.Request.Headers["Range"]))
			mu.Unlock()
		}
	})
	err = chromedp.Run(ctx,
		network.Enable(),
		chromedp.Navigate(d.base()+"/#/open/"+sound.Cid+"?name=tone.wav"),
		chromedp.Poll(`(() => { const a = document.querySelector('#preview audio'); return !!a && a.readyState >= 1; })()`,
			nil, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		t.Fatalf("audio preview: %v", err)
	}
	var got struct {
		Duration, SeekableEnd, At float64
	}
	err = chromedp.Run(ctx, chromedp.Evaluate(`new Promise((resolve, reject) => {
		const a = document.querySelector('#preview audio');
		const done = () => resolve({
			Duration: a.duration,
			SeekableEnd: a.seekable.length ? a.seekable.end(a.seekable.length - 1) : 0,
			At: a.currentTime,
		});
		a.addEventListener('seeked', done, { once: true });
		a.addEventListener('error', () => reject(new Error('media error ' + (a.error && a.error.code))), { once: true });
		a.currentTime = a.duration * 2 / 3;
		setTimeout(() => reject(new Error('no seeked event')), 15000);
	})`, &got, awaitPromise))
	if err != nil {
		t.Fatalf("seeking the audio preview: %v", err)
	}
	if math.Abs(got.Duration-seconds) > 0.1 || got.SeekableEnd < seconds-0.1 || math.Abs(got.At-seconds*2.0/3) > 0.5 {
		t.Fatalf("audio preview: duration %.2f s, seekable to %.2f s, at %.2f s after seeking; want %d s, all of it, %.1f s",
			got.Duration, got.SeekableEnd, got.At, seconds, seconds*2.0/3)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("audio: %.1f s, sought to %.1f s; requests with Range %q", got.Duration, got.At, ranges)
	fromMiddle := false
	for _, r := range ranges {
		fromMiddle = fromMiddle || (strings.HasPrefix(r, "bytes=") && !strings.HasPrefix(r, "bytes=0-"))
	}
	if !fromMiddle {
		t.Fatalf("the browser never asked for the sound from the middle (Range headers %q)", ranges)
	}
	// No screenshot here: headless Chromium's capture sometimes never
	// returns while a media element is loaded.
}

// sineWAV is a mono 16-bit PCM WAV file of a sine tone.
func sineWAV(seconds, rate, freq int) []byte {
	n := seconds * rate
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1)) // PCM
	w(uint16(1)) // mono
	w(uint32(rate))
	w(uint32(2 * rate))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(2 * n))
	for i := range n {
		w(int16(8000 * math.Sin(2*math.Pi*float64(freq)*float64(i)/float64(rate))))
	}
	return b.Bytes()
}
