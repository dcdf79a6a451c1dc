// cxx.cc - C++ containers: operator new and delete reach malloc and free
// through libstdc++.  Prints sizes and a checksum.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

int main()
{
    std::map<std::string, std::vector<int>> m;
    for (int i = 0; i < 100000; i++) {
        std::string k = "key" + std::to_string((i * 7919) % 5000);
        m[k].push_back(i);
        if (i % 7 == 0)
            m.erase("key" + std::to_string(i % 5000));
    }
    std::vector<std::unique_ptr<std::string>> v;
    for (int i = 0; i < 50000; i++)
        v.emplace_back(new std::string(static_cast<size_t>(i % 300), 'x'));
    unsigned long long sum = 0;
    for (const auto &e : m)
        for (int x : e.second)
            sum = sum * 31 + static_cast<unsigned>(x);
    for (const auto &s : v)
        sum += s->size();
    std::printf("map %zu vector %zu checksum %llu\n", m.size(), v.size(), sum);
    return 0;
}
