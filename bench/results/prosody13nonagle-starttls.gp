# prosody13nonagle-starttls: written by bench/rtreport.py; gnuplot prosody13nonagle-starttls.gp
set terminal svg size 1000,460 dynamic font "sans,12"
set output "prosody13nonagle-starttls.svg"
set multiplot layout 1,2 title "CONTROL, not as deployed: Prosody 13 with nagle = false, STARTTLS: 50 ms RTT injected"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set xtics rotate by -20 scale 0
set bmargin 6
set key top left opaque
set yrange [0:*]
set offsets 0, 0, graph 0.15, 0
set title "round trips per send (target <= 7)"
plot "prosody13nonagle-starttls.dat" using 2:xtic(1) title "by wall time", \
     "" using 3 title "by packets", \
     7 with lines dashtype 2 lc rgb "black" title "target"
set title "wall time per send (ms, log scale)"
set logscale y
set offsets 0, 0, 0, 0
set yrange [10:*]
plot "prosody13nonagle-starttls.dat" using 4:xtic(1) title "0 ms added", \
     "" using 5 title "50 ms RTT"
unset multiplot
