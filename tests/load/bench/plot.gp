# gnuplot script for scripts/bench: throughput and p99 per scenario (and the ceilings).
#   gnuplot -e "datafile='plot.dat'; outfile='performance.png'" plot.gp
# plot.dat (written by report.py): "label" req_per_s useful_per_s p99_ms p50_ms
if (!exists("datafile")) datafile = 'plot.dat'
if (!exists("outfile")) outfile = 'performance.png'

set terminal pngcairo size 1500,900 font "DejaVu Sans,10"
set output outfile
set datafile separator "\t"
set multiplot layout 2,1 title "boxoffice: scripts/bench, one run on 2 shared vCPUs (ceilings left, closed-loop scenarios at 1,000 connections, open-loop rates right)"

set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set logscale y
set xtics noenhanced font ",9"
set key top right noenhanced
set bmargin 4

set ylabel "per second (log)"
set title "Throughput: all answers/s and useful answers/s (confirmed 201s, cached 200s, sold-out 409s)"
plot datafile using 2:xtic(1) title "requests/s" lc rgb "#4c72b0", \
     '' using 3 title "useful/s" lc rgb "#dd8452"

set ylabel "ms (log)"
set key top left
set title "Latency: p50 and p99 (50 ms target line for reservations)"
plot datafile using 5:xtic(1) title "p50" lc rgb "#55a868", \
     '' using 4 title "p99" lc rgb "#c44e52", \
     50 with lines dt 2 lw 2 lc rgb "black" title "50 ms"

unset multiplot
